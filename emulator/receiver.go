package emulator

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
)

// Receiver is the functions port: the Firestore emulator posts every trigger event to
// /functions/projects/{project}/triggers/{id} here (its --functions_emulator flag is fixed
// at start). Events are routed by project: `hearth dev` routes its project to the
// functions pipeline, and each test routes its own fresh project to a handler of its own,
// in this process or, through PUT /hearth/v1/routes/{project}, in another one.
type Receiver struct {
	log    *slog.Logger
	mu     sync.RWMutex
	routes map[string]http.Handler
}

// NewReceiver returns a receiver with no routes.
func NewReceiver(log *slog.Logger) *Receiver {
	return &Receiver{log: log.With("component", "receiver"), routes: map[string]http.Handler{}}
}

// Route sends the trigger events of project to h. A nil h removes the route.
func (r *Receiver) Route(project string, h http.Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h == nil {
		delete(r.routes, project)
		return
	}
	r.routes[project] = h
}

// Forward sends the trigger events of project to another receiver at baseURL, keeping the
// path, so a test binary can receive the events of its own projects.
func (r *Receiver) Forward(project, baseURL string) error {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("forward %s: target %q is not an http://host:port URL", project, baseURL)
	}
	r.Route(project, httputil.NewSingleHostReverseProxy(u))
	return nil
}

// Handler serves the receiver's routes.
func (r *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /functions/projects/{project}/triggers/{trigger...}", r.deliver)
	mux.HandleFunc("PUT /hearth/v1/routes/{project}", r.putRoute)
	mux.HandleFunc("DELETE /hearth/v1/routes/{project}", func(w http.ResponseWriter, req *http.Request) {
		r.Route(req.PathValue("project"), nil)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	return mux
}

func (r *Receiver) deliver(w http.ResponseWriter, req *http.Request) {
	project := req.PathValue("project")
	r.mu.RLock()
	h := r.routes[project]
	r.mu.RUnlock()
	if h == nil {
		// Nothing listens for this project (a test that has finished, say). 404 is what
		// the Firebase CLI's functions emulator answers for an unknown trigger.
		r.log.Debug("no route for trigger event", "project", project, "trigger", req.PathValue("trigger"))
		http.Error(w, "no functions for project "+project, http.StatusNotFound)
		return
	}
	h.ServeHTTP(w, req)
}

// RouteRequest is the body of PUT /hearth/v1/routes/{project}.
type RouteRequest struct {
	Target string `json:"target"` // base URL of the receiving server, e.g. http://127.0.0.1:40123
}

func (r *Receiver) putRoute(w http.ResponseWriter, req *http.Request) {
	var body RouteRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 4096)).Decode(&body); err != nil {
		http.Error(w, "body must be {\"target\": \"http://host:port\"}: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := r.Forward(req.PathValue("project"), body.Target); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
