package admin

import (
	"encoding/json"
	"mime"
	"net/http"
)

// healthz answers 200 as long as the listener serves: it says the process is alive, nothing more.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz answers 200 when the proxy can serve sessions (Config.Ready), else 503 with the reason.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.checkReady(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready: " + s.cfg.Secrets.Scrub(err.Error()) + "\n"))
		return
	}
	w.Write([]byte("ready\n"))
}

// status serves the Status document as indented JSON.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s.Snapshot(r.Context())); err != nil {
		s.cfg.Logger.Warn("admin: encode /status", "err", err)
	}
}

// execReport serves what a `deferproxy exec` command's sessions did, as JSON; 404 when no session had the tag.
func (s *Server) execReport(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	var rep any
	ok := false
	if s.cfg.ExecReport != nil {
		rep, ok = s.cfg.ExecReport(r.PathValue("tag"))
	}
	if !ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("no session with that tag reached the proxy\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(rep); err != nil {
		s.cfg.Logger.Warn("admin: encode /exec", "err", err)
	}
}

// maxDevManifest bounds an uploaded dev manifest.
const maxDevManifest = 1 << 30

// execDevManifest takes the project's target/manifest.json from `deferproxy exec` for its tag's sessions: a body,
// never a path for the proxy to open.
func (s *Server) execDevManifest(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.cfg.ExecDevManifest == nil {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("no defer engine: start deferproxy with --manifest\n"))
		return
	}
	msg, err := s.cfg.ExecDevManifest(r.PathValue("tag"), http.MaxBytesReader(w, r.Body, maxDevManifest))
	if err != nil {
		w.WriteHeader(http.StatusUnprocessableEntity)
		w.Write([]byte(err.Error() + "\n"))
		return
	}
	w.Write([]byte(msg + "\n"))
}

// setMode changes the default mode of new sessions: POST /mode with the JSON body {"mode": "defer|favor_state|off"}.
// JSON only: a form or a "simple" request of another site cannot send it (the Origin checks of guard come first).
// Open sessions keep theirs; a session changes its own with SET deferproxy.mode.
func (s *Server) setMode(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if s.cfg.SetDefaultMode == nil {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("no defer engine: start deferproxy with --manifest to have modes\n"))
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		w.Write([]byte(`POST /mode takes JSON: curl -H 'Content-Type: application/json' -d '{"mode":"favor_state"}' http://HOST/mode` + "\n"))
		return
	}
	var body struct {
		Mode string `json:"mode"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil || body.Mode == "" {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`missing mode: POST /mode with {"mode": "defer"}, "favor_state" or "off"` + "\n"))
		return
	}
	if err := s.cfg.SetDefaultMode(body.Mode); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(err.Error() + "\n"))
		return
	}
	s.cfg.Logger.Info("default mode of new sessions changed", "mode", body.Mode, "remote", r.RemoteAddr)
	w.Write([]byte("default mode of new sessions: " + body.Mode + "\n"))
}
