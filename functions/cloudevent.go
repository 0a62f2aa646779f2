package functions

import (
	"context"
	"net/http"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
)

// CloudEventHandler is the door for `hearth serve` on Cloud Run, where Eventarc delivers
// Firestore CloudEvents over HTTP (binary or structured mode, protobuf or JSON data):
//
//   - POST /events/{name}: the event for trigger name (one Eventarc trigger per Hearth
//     trigger, --destination-run-path=/events/{name}; see docs/deploy.md);
//   - POST /events (and POST /): every trigger whose document pattern matches the
//     event's document and whose event type accepts the change.
//
// Handlers run synchronously under the request's context (bounded by
// Config.HandlerTimeout). 204 acknowledges; a handler error answers 500 so Eventarc
// retries (with the trigger's retry policy); Permanent errors and empty events are
// acknowledged. An unknown trigger name is 404, an undecodable event 400.
func (p *Pipeline) CloudEventHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /events/{name}", func(w http.ResponseWriter, r *http.Request) {
		t, ok := p.trigger(r.PathValue("name"))
		if !ok {
			http.Error(w, "no trigger "+r.PathValue("name"), http.StatusNotFound)
			return
		}
		p.serveEvent(w, r, func(ev *firestoreevent.Event) []Trigger {
			if !accepts(t, ev) {
				return nil
			}
			return []Trigger{t}
		})
	})
	route := func(w http.ResponseWriter, r *http.Request) {
		p.serveEvent(w, r, p.matching)
	}
	mux.HandleFunc("POST /events", route)
	mux.HandleFunc("POST /{$}", route)
	return mux
}

// serveEvent decodes the request's event and runs the triggers pick selects, in order.
func (p *Pipeline) serveEvent(w http.ResponseWriter, r *http.Request, pick func(*firestoreevent.Event) []Trigger) {
	ev, err := firestoreevent.FromHTTP(r)
	if err != nil {
		p.log.Warn("undecodable CloudEvent", "path", r.URL.Path, "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ev.Empty() {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	triggers := pick(ev)
	if len(triggers) == 0 {
		p.log.Warn("no trigger for CloudEvent", "type", ev.Type, "document", ev.Document)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.cfg.HandlerTimeout)
	defer cancel()
	for _, t := range triggers {
		err := p.run(ctx, t, ev)
		p.countOutcome(t.Name, err)
		switch {
		case err == nil:
		case IsPermanent(err):
			p.log.Error("event failed, not retried", "trigger", t.Name, "document", ev.Document, "event", ev.ID, "err", err)
		default:
			p.log.Warn("event failed, asking for a retry", "trigger", t.Name, "document", ev.Document, "event", ev.ID, "err", err)
			http.Error(w, t.Name+": "+err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// matching returns the triggers that take ev: document pattern matches and event type
// accepts the change.
func (p *Pipeline) matching(ev *firestoreevent.Event) []Trigger {
	var out []Trigger
	for _, t := range p.Triggers() {
		if _, ok := firestoreevent.Match(t.Document, ev.Document); ok && accepts(t, ev) {
			out = append(out, t)
		}
	}
	return out
}

// accepts reports whether trigger t takes the change ev describes: a written trigger
// takes every change; a created, updated or deleted trigger only that change (Eventarc
// may deliver a written event to a door where several triggers listen).
func accepts(t Trigger, ev *firestoreevent.Event) bool {
	k := firestoreevent.KindOf(t.EventType)
	return k == firestoreevent.KindWritten || k == ev.Change()
}
