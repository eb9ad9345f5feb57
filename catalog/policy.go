package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/deferproxy/deferproxy/rewrite"
)

// Mode is a session's defer mode (SPEC §1, §4).
type Mode int

const (
	// ModeDefer: a reference defers when its dev relation does not exist (SPEC §4.1). The default.
	ModeDefer Mode = iota
	// ModeFavorState: a reference defers when its node is not selected, or its dev relation does not exist (§4.2).
	ModeFavorState
	// ModeOff: nothing defers (§4.4); the write guard still applies.
	ModeOff
)

// String returns the configuration spelling: "defer", "favor_state", "off".
func (m Mode) String() string {
	switch m {
	case ModeFavorState:
		return "favor_state"
	case ModeOff:
		return "off"
	}
	return "defer"
}

// ParseMode parses "defer", "favor_state" (also "favor-state") or "off"; "" is defer.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "", "defer":
		return ModeDefer, nil
	case "favor_state", "favor-state":
		return ModeFavorState, nil
	case "off":
		return ModeOff, nil
	}
	return ModeDefer, fmt.Errorf("unknown deferproxy mode %q: use defer, favor_state or off", s)
}

// Scope is where unqualified names of a session resolve: its database and search_path (schema names normalised,
// "$user" already expanded, pg_temp/pg_catalog left out).
type Scope struct {
	Database   string
	SearchPath []string
}

// Request is everything Decide needs about one read reference. Manifest, DevMap and Catalog must come from one
// snapshot for the whole statement.
type Request struct {
	Ref      rewrite.Reference
	Scope    Scope
	Manifest *Manifest
	DevMap   *DevMap
	// Catalog answers dev existence; it is consulted only when the decision depends on it.
	Catalog Existence
	Mode    Mode
	// Selected reports whether a node (by unique_id) is selected in this session (SPEC §4.3); nil: none is.
	Selected func(uniqueID string) bool
	// Executing is the node_id of the statement's query comment: that node's own relation is never deferred.
	Executing string
	// TempTable reports whether an unqualified name is a temp table of this session; nil: none is.
	TempTable func(name string) bool
	// CrossDatabase is true when the warehouse can read another database (Snowflake); false for PostgreSQL.
	CrossDatabase bool
}

// Action is Decide's verdict.
type Action int

const (
	// Keep: forward the reference as written.
	Keep Action = iota
	// Defer: replace the reference with Decision.To.
	Defer
)

func (a Action) String() string {
	if a == Defer {
		return "defer"
	}
	return "keep"
}

// Decision is the verdict on one read reference.
type Decision struct {
	Action Action
	// To is the replacement name parts (unquoted, as stored), as many as the reference wrote (SPEC §5.4), except that
	// an unqualified name becomes schema.name. Set only for Defer.
	To []string
	// Node is the production node the reference maps to (nil when it maps to none).
	Node *Node
	// Dev is the dev relation the reference names (resolved through the search_path when unqualified); Prod is the
	// node's production relation.
	Dev, Prod Relation
	// CrossDatabase is true when the reference would defer but production lies in another database that the
	// warehouse cannot read; the client is told (SPEC §5.4).
	CrossDatabase bool
	// Reason says why, for notices and `deferproxy rewrite --explain`.
	Reason string
}

// Decide applies SPEC §4 to one read reference. An error means the dev catalog could not answer (it wraps
// ErrCatalogUnavailable); the engine fails open or closed per configuration (SPEC §6).
func Decide(ctx context.Context, req Request) (Decision, error) {
	return Decision{}, errors.New("TODO")
}

// ProdWriteGuard reports whether a write target must be refused (SPEC §6): it names the production relation of a
// node or source, or lies in a schema that holds production relations. prodRelation names what was hit, for the
// 42501 message. Unqualified targets are checked against every schema of the search_path.
func ProdWriteGuard(m *Manifest, ref rewrite.Reference, scope Scope) (prodRelation string, refused bool) {
	return "", false
}
