package deferral

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/deferproxy/deferproxy/catalog"
)

// tagGUC is the startup setting `deferproxy exec` tags its command's sessions with (the proxy consumes it; the engine
// sees it in the client's options).
const tagGUC = "deferproxy.tag"

// maxTagDevManifests bounds the uploaded dev manifests kept (the oldest is forgotten first): each may be large.
const maxTagDevManifests = 16

// tagDevs holds the dev manifests `deferproxy exec` uploaded, by tag.
type tagDevs struct {
	byTag sync.Map // tag → *catalog.Manifest; read on the statement path of tagged sessions, without a lock
	mu    sync.Mutex
	order []string // tags, oldest first
}

// SetDevManifest makes the manifest read from r the dev manifest of the sessions tagged tag (`deferproxy exec`
// uploads the project's target/manifest.json after dbt writes it), so their mapping is exact even on a shared proxy
// that cannot read the developer's files. The manifest must load completely and be of the production project.
func (e *Engine) SetDevManifest(tag string, r io.Reader) (*catalog.Manifest, error) {
	if tag == "" {
		return nil, errors.New("a dev manifest upload needs the tag of deferproxy exec's sessions")
	}
	m, err := catalog.LoadManifest(r)
	if err != nil {
		return nil, fmt.Errorf("dev manifest: %w", err)
	}
	if prod := e.prod.Current(); prod != nil && prod.Metadata().ProjectName != m.Metadata().ProjectName {
		return nil, fmt.Errorf("dev manifest of project %q, production's is %q: upload the manifest of the project the proxy defers",
			m.Metadata().ProjectName, prod.Metadata().ProjectName)
	}
	d := &e.tagDevs
	d.mu.Lock()
	if _, had := d.byTag.Swap(tag, m); !had {
		d.order = append(d.order, tag)
		if len(d.order) > maxTagDevManifests {
			old := d.order[0]
			d.order = d.order[1:]
			d.byTag.Delete(old)
			e.maps.Range(func(k, _ any) bool { // the per-target states built over it go too
				if k.(targetKey).tag == old {
					e.maps.Delete(k)
				}
				return true
			})
		}
	}
	d.mu.Unlock()
	e.log.Info("dev manifest uploaded for deferproxy exec's sessions", "tag", tag, "nodes", m.Len(), "at", time.Now().Format(time.RFC3339))
	return m, nil
}

// tagDevManifest is the dev manifest uploaded for tag, nil when none.
func (e *Engine) tagDevManifest(tag string) *catalog.Manifest {
	if v, ok := e.tagDevs.byTag.Load(tag); ok {
		return v.(*catalog.Manifest)
	}
	return nil
}
