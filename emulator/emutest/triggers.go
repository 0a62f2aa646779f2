package emutest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
)

// localReceiver is this test binary's own functions receiver. The suite's receiver (bound
// to the Firestore emulator's --functions_emulator address, maybe in another process)
// forwards each test project's events here.
type localReceiver struct {
	url    string
	mu     sync.RWMutex
	routes map[string]http.Handler
}

var (
	receiverOnce sync.Once
	receiver     *localReceiver
	receiverErr  error
	triggerSeq   atomic.Int64
)

func getReceiver() (*localReceiver, error) {
	receiverOnce.Do(func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			receiverErr = fmt.Errorf("listen for trigger events: %w", err)
			return
		}
		r := &localReceiver{url: "http://" + ln.Addr().String(), routes: map[string]http.Handler{}}
		mux := http.NewServeMux()
		mux.HandleFunc("POST /functions/projects/{project}/triggers/{trigger...}", func(w http.ResponseWriter, req *http.Request) {
			r.mu.RLock()
			h := r.routes[req.PathValue("project")]
			r.mu.RUnlock()
			if h == nil {
				http.Error(w, "no route", http.StatusNotFound)
				return
			}
			h.ServeHTTP(w, req)
		})
		go (&http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
		receiver = r
	})
	return receiver, receiverErr
}

// Route sends every trigger event of the test's project to h (for example a functions
// pipeline's handler) until the test ends.
func (e *Env) Route(h http.Handler) {
	e.t.Helper()
	r, err := getReceiver()
	if err != nil {
		e.t.Fatalf("emutest: %v", err)
	}
	r.mu.Lock()
	r.routes[e.ProjectID] = h
	r.mu.Unlock()
	body, _ := json.Marshal(map[string]string{"target": r.url})
	req, _ := http.NewRequestWithContext(e.t.Context(), http.MethodPut,
		"http://"+e.FunctionsHost+"/hearth/v1/routes/"+e.ProjectID, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := controlClient().Do(req)
	if err != nil {
		e.t.Fatalf("emutest: route trigger events: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		e.t.Fatalf("emutest: route trigger events: %s", resp.Status)
	}
	e.t.Cleanup(func() {
		r.mu.Lock()
		delete(r.routes, e.ProjectID)
		r.mu.Unlock()
		req, _ := http.NewRequest(http.MethodDelete, "http://"+e.FunctionsHost+"/hearth/v1/routes/"+e.ProjectID, nil)
		if resp, err := controlClient().Do(req); err == nil {
			resp.Body.Close()
		}
	})
}

// RegisterTrigger registers a v2 (Eventarc) trigger for the test's project with the
// Firestore emulator. Events reach the handler given to Route.
func (e *Env) RegisterTrigger(t firestoreevent.Trigger) {
	e.t.Helper()
	if err := firestoreevent.RegisterTrigger(e.t.Context(), controlClient(), e.FirestoreHost, e.ProjectID, t); err != nil {
		e.t.Fatalf("emutest: %v", err)
	}
}

// Events registers a trigger of eventType (e.g. "google.cloud.firestore.document.v1.written")
// on the document pattern and returns a channel of the decoded events. It routes the
// project's events to itself, so use either Events or Route in one test.
func (e *Env) Events(eventType, pattern string) <-chan *firestoreevent.Event {
	e.t.Helper()
	ch := make(chan *firestoreevent.Event, 1024)
	e.Route(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := firestoreevent.FromHTTP(r)
		if err != nil {
			e.t.Errorf("emutest: undecodable trigger event: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case ch <- ev:
		default:
			e.t.Errorf("emutest: event channel full, dropped %s", ev.Document)
		}
	}))
	e.RegisterTrigger(firestoreevent.Trigger{
		ID:        fmt.Sprintf("emutest-%d", triggerSeq.Add(1)),
		EventType: eventType,
		Document:  pattern,
		MatchType: firestoreevent.MatchPathPattern,
	})
	return ch
}
