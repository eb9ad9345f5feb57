package catalog

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/deferproxy/deferproxy/rewrite"
)

// countingCatalog counts Exists calls of a StaticCatalog, to prove when Decide does not ask the catalog.
type countingCatalog struct {
	StaticCatalog
	n   atomic.Int32
	err error
}

func (c *countingCatalog) Exists(ctx context.Context, rel Relation) (bool, error) {
	c.n.Add(1)
	if c.err != nil {
		return false, c.err
	}
	return c.StaticCatalog.Exists(ctx, rel)
}

func ref(role rewrite.Role, parts ...string) rewrite.Reference {
	return rewrite.Reference{Parts: parts, Normalized: parts, Quoted: make([]bool, len(parts)), Role: role}
}

func read(parts ...string) rewrite.Reference { return ref(rewrite.Read, parts...) }

type policyFixture struct {
	prod *Manifest
	dev  *DevMap
	cat  *countingCatalog
}

func newPolicyFixture(t *testing.T) *policyFixture {
	prod := mustLoad(t, "testdata/manifest_v11.json")
	return &policyFixture{
		prod: prod,
		dev:  NewDevMap(DevMapConfig{Prod: prod, Target: DevTarget{"warehouse", "dbt_alice"}}),
		cat: &countingCatalog{StaticCatalog: NewStaticCatalog(
			Relation{"warehouse", "dbt_alice", "stg_orders"}, // built in dev
			Relation{"warehouse", "public", "orders"},        // shadows an unqualified name
		)},
	}
}

func (f *policyFixture) req(r rewrite.Reference, mode Mode, selected ...string) Request {
	return Request{
		Ref: r, Scope: Scope{Database: "warehouse", SearchPath: []string{"dbt_alice", "public"}},
		Manifest: f.prod, DevMap: f.dev, Catalog: f.cat, Mode: mode,
		Selected: func(id string) bool {
			for _, s := range selected {
				if s == id {
					return true
				}
			}
			return false
		},
	}
}

// The truth table of SPEC §4.1, §4.2 and §4.4: mode × selected × exists in dev.
func TestDecideModes(t *testing.T) {
	f := newPolicyFixture(t)
	const (
		existing = "model.shop.stg_orders" // dbt_alice.stg_orders exists in dev
		missing  = "model.shop.orders"     // dbt_alice_marts.orders does not
	)
	refs := map[string]rewrite.Reference{
		existing: read("dbt_alice", "stg_orders"),
		missing:  read("dbt_alice_marts", "orders"),
	}
	prod := map[string][]string{existing: {"analytics", "stg_orders"}, missing: {"analytics_marts", "orders"}}
	tests := []struct {
		mode     Mode
		node     string
		selected bool
		want     Action
		askCat   bool
		reason   string
	}{
		{ModeDefer, existing, false, Keep, true, "exists in dev"},
		{ModeDefer, existing, true, Keep, true, "exists in dev"},
		{ModeDefer, missing, false, Defer, true, "does not exist in dev"},
		{ModeDefer, missing, true, Defer, true, "does not exist in dev"}, // dbt ≥ 1.8: independent of selection
		{ModeFavorState, existing, false, Defer, false, "not selected"},
		{ModeFavorState, existing, true, Keep, true, "is selected"},
		{ModeFavorState, missing, false, Defer, false, "not selected"},
		{ModeFavorState, missing, true, Defer, true, "does not exist in dev"},
		{ModeOff, existing, false, Keep, false, "mode off"},
		{ModeOff, existing, true, Keep, false, "mode off"},
		{ModeOff, missing, false, Keep, false, "mode off"},
		{ModeOff, missing, true, Keep, false, "mode off"},
	}
	for _, tt := range tests {
		name := tt.mode.String() + "/" + tt.node
		if tt.selected {
			name += "/selected"
		}
		t.Run(name, func(t *testing.T) {
			var sel []string
			if tt.selected {
				sel = []string{tt.node}
			}
			f.cat.n.Store(0)
			d, err := Decide(context.Background(), f.req(refs[tt.node], tt.mode, sel...))
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.want || !strings.Contains(d.Reason, tt.reason) {
				t.Errorf("Decide = %v (%s), want %v (%s)", d.Action, d.Reason, tt.want, tt.reason)
			}
			if d.Node == nil || d.Node.UniqueID != tt.node {
				t.Errorf("Node = %v", d.Node)
			}
			if tt.want == Defer && strings.Join(d.To, ".") != strings.Join(prod[tt.node], ".") {
				t.Errorf("To = %v, want %v", d.To, prod[tt.node])
			}
			if tt.want == Keep && d.To != nil {
				t.Errorf("Keep with To = %v", d.To)
			}
			if asked := f.cat.n.Load() > 0; asked != tt.askCat {
				t.Errorf("catalog asked: %v, want %v", asked, tt.askCat)
			}
		})
	}
}

func TestDecideCases(t *testing.T) {
	f := newPolicyFixture(t)
	tests := []struct {
		name   string
		req    func() Request
		want   Action
		to     string
		reason string
		askCat bool
	}{
		{"3-part name stays 3-part", func() Request { return f.req(read("warehouse", "dbt_alice_marts", "revenue"), ModeDefer) },
			Defer, "warehouse.analytics_marts.revenue", "deferred to", true},
		{"versioned model", func() Request { return f.req(read("dbt_alice", "customers_v2"), ModeDefer) },
			Defer, "analytics.customers_v2", "", true},
		{"quoted mixed case", func() Request { return f.req(read("dbt_alice", "Mixed_Case"), ModeDefer) },
			Defer, "analytics.Mixed_Case", "", true},
		{"seed", func() Request { return f.req(read("dbt_alice", "raw_customers"), ModeDefer) },
			Defer, "analytics.raw_customers", "", true},
		{"unqualified through search_path becomes schema.name", func() Request { return f.req(read("customers_v1"), ModeDefer) },
			Defer, "analytics.customers_v1", "", true},
		{"unqualified shadowed by an earlier schema", func() Request {
			r := f.req(read("orders"), ModeDefer)
			r.Scope.SearchPath = []string{"public", "dbt_alice_marts"}
			return r
		}, Keep, "", "earlier in the search_path", true},
		{"unqualified mapping to no node asks nothing", func() Request { return f.req(read("pg_class"), ModeDefer) },
			Keep, "", "no dbt node's dev relation", false},
		{"unqualified temp table", func() Request {
			r := f.req(read("customers_v1"), ModeDefer)
			r.TempTable = func(n string) bool { return n == "customers_v1" }
			return r
		}, Keep, "", "temporary table", false},
		{"write target", func() Request { return f.req(ref(rewrite.Write, "dbt_alice_marts", "orders"), ModeDefer) },
			Keep, "", "write target", false},
		{"__dbt_tmp", func() Request { return f.req(read("dbt_alice_marts", "orders__dbt_tmp"), ModeDefer) },
			Keep, "", "__dbt_tmp", false},
		{"__dbt_tmp with suffix", func() Request { return f.req(read("dbt_alice", "orders__dbt_tmp170954"), ModeDefer) },
			Keep, "", "__dbt_tmp", false},
		{"__dbt_backup", func() Request { return f.req(read("dbt_alice_marts", "orders__dbt_backup"), ModeDefer) },
			Keep, "", "__dbt_backup", false},
		{"ephemeral CTE", func() Request { return f.req(read("__dbt__cte__eph_orders"), ModeDefer) },
			Keep, "", "__dbt__cte__", false},
		{"executing node ({{ this }})", func() Request {
			r := f.req(read("dbt_alice_marts", "orders"), ModeDefer)
			r.Executing = "model.shop.orders"
			return r
		}, Keep, "", "{{ this }}", false},
		{"another node executing", func() Request {
			r := f.req(read("dbt_alice_marts", "orders"), ModeDefer)
			r.Executing = "model.shop.fct_revenue"
			return r
		}, Defer, "analytics_marts.orders", "", true},
		{"legacy snapshot: dev is prod", func() Request { return f.req(read("snapshots", "orders_snapshot"), ModeDefer) },
			Keep, "", "both the dev and the production relation", false},
		{"production relation named directly", func() Request { return f.req(read("analytics", "stg_orders"), ModeDefer) },
			Keep, "", "already the production relation", false},
		{"source", func() Request { return f.req(read("raw", "orders_v1"), ModeDefer) },
			Keep, "", "source.shop.raw.orders", false},
		{"another developer's schema", func() Request { return f.req(read("dbt_bob", "stg_orders"), ModeDefer) },
			Keep, "", "no dbt node's dev relation", false},
		{"cross-database refused on PostgreSQL", func() Request {
			r := f.req(read("devdb", "dbt_alice", "stg_customers"), ModeDefer)
			r.Scope.Database = "devdb"
			r.DevMap = NewDevMap(DevMapConfig{Prod: f.prod, Target: DevTarget{"devdb", "dbt_alice"}})
			return r
		}, Keep, "", "cannot read across databases", true},
		{"cross-database allowed (Snowflake)", func() Request {
			r := f.req(read("dbt_alice", "stg_customers"), ModeDefer)
			r.Scope.Database = "devdb"
			r.DevMap = NewDevMap(DevMapConfig{Prod: f.prod, Target: DevTarget{"devdb", "dbt_alice"}})
			r.CrossDatabase = true
			return r
		}, Defer, "warehouse.analytics.stg_customers", "", true},
		{"3-part name in another database asks nothing", func() Request {
			return f.req(read("otherdb", "dbt_alice_marts", "orders"), ModeDefer)
		}, Keep, "", "another database", false},
		{"no manifest", func() Request {
			r := f.req(read("dbt_alice", "stg_customers"), ModeDefer)
			r.Manifest = nil
			return r
		}, Keep, "", "no production manifest", false},
		{"refused derivation maps nothing", func() Request {
			r := f.req(read("dbt_alice", "stg_customers"), ModeDefer)
			r.DevMap = NewDevMap(DevMapConfig{Prod: f.prod})
			return r
		}, Keep, "", "no dbt node's dev relation", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.cat.n.Store(0)
			d, err := Decide(context.Background(), tt.req())
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.want || !strings.Contains(d.Reason, tt.reason) || strings.Join(d.To, ".") != tt.to {
				t.Errorf("Decide = %v %v (%s); want %v %s (%s)", d.Action, d.To, d.Reason, tt.want, tt.to, tt.reason)
			}
			if asked := f.cat.n.Load() > 0; asked != tt.askCat {
				t.Errorf("catalog asked: %v, want %v", asked, tt.askCat)
			}
		})
	}
}

func TestDecideNewInDev(t *testing.T) {
	prod := mustLoad(t, "testdata/manifest_v11.json")
	dm := NewDevMap(DevMapConfig{Prod: prod, Dev: mustLoad(t, "testdata/dev_manifest.json")})
	req := Request{Ref: read("dbt_alice", "new_in_dev"), Scope: Scope{Database: "warehouse"}, Manifest: prod, DevMap: dm,
		Catalog: NewStaticCatalog()}
	d, err := Decide(context.Background(), req)
	if err != nil || d.Action != Keep || !strings.Contains(d.Reason, "new in dev") {
		t.Errorf("new in dev: %v %s %v", d.Action, d.Reason, err)
	}
	req.Ref = read("dbt_alice_marts", "revenue")
	d, err = Decide(context.Background(), req)
	if err != nil || d.Action != Defer || strings.Join(d.To, ".") != "analytics_marts.revenue" {
		t.Errorf("dev manifest mapping: %v %v %s %v", d.Action, d.To, d.Reason, err)
	}
}

func TestDecideCatalogError(t *testing.T) {
	f := newPolicyFixture(t)
	f.cat.err = errors.Join(ErrCatalogUnavailable, errors.New("timeout"))
	d, err := Decide(context.Background(), f.req(read("dbt_alice_marts", "orders"), ModeDefer))
	if !errors.Is(err, ErrCatalogUnavailable) || d.Action != Keep || !strings.Contains(d.Reason, "unavailable") {
		t.Errorf("catalog error: %v %s %v", d.Action, d.Reason, err)
	}
	// favor_state with an unselected node does not need the catalog, so it still decides.
	d, err = Decide(context.Background(), f.req(read("dbt_alice_marts", "orders"), ModeFavorState))
	if err != nil || d.Action != Defer {
		t.Errorf("favor_state unselected: %v %v", d.Action, err)
	}
	r := f.req(read("dbt_alice_marts", "orders"), ModeDefer)
	r.Catalog = nil
	if _, err := Decide(context.Background(), r); !errors.Is(err, ErrCatalogUnavailable) {
		t.Errorf("nil catalog: %v", err)
	}
}

func TestProdWriteGuard(t *testing.T) {
	m := mustLoad(t, "testdata/manifest_v11.json")
	scope := Scope{Database: "warehouse", SearchPath: []string{"dbt_alice", "public"}}
	tests := []struct {
		name  string
		ref   rewrite.Reference
		scope Scope
		want  string // "" = allowed
	}{
		{"prod relation of a model", ref(rewrite.Write, "analytics", "stg_orders"), scope, "warehouse.analytics.stg_orders"},
		{"3-part prod relation", ref(rewrite.Write, "warehouse", "analytics_marts", "revenue"), scope, "warehouse.analytics_marts.revenue"},
		{"new table in a prod schema", ref(rewrite.Write, "analytics", "scratch"), scope, "warehouse.analytics.scratch"},
		{"source relation", ref(rewrite.Write, "raw", "orders_v1"), scope, "warehouse.raw.orders_v1"},
		{"dev relation", ref(rewrite.Write, "dbt_alice", "stg_orders"), scope, ""},
		{"dev custom schema", ref(rewrite.Write, "dbt_alice_marts", "orders__dbt_tmp"), scope, ""},
		{"same names in another database", ref(rewrite.Write, "devdb", "analytics", "stg_orders"), scope, ""},
		{"unqualified, prod relation in search_path", ref(rewrite.Write, "stg_orders"),
			Scope{Database: "warehouse", SearchPath: []string{"dbt_alice", "analytics"}}, "warehouse.analytics.stg_orders"},
		{"unqualified, new name, prod schema first", ref(rewrite.Write, "scratch"),
			Scope{Database: "warehouse", SearchPath: []string{"analytics", "dbt_alice"}}, "warehouse.analytics.scratch"},
		{"unqualified, new name, dev schema first", ref(rewrite.Write, "scratch"),
			Scope{Database: "warehouse", SearchPath: []string{"dbt_alice", "analytics"}}, ""},
		{"unqualified, no search_path", ref(rewrite.Write, "scratch"), Scope{Database: "warehouse"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rel, refused := ProdWriteGuard(m, tt.ref, tt.scope)
			if refused != (tt.want != "") || rel != tt.want {
				t.Errorf("ProdWriteGuard = %q, %v; want %q", rel, refused, tt.want)
			}
		})
	}
	if _, refused := ProdWriteGuard(nil, ref(rewrite.Write, "analytics", "stg_orders"), scope); refused {
		t.Error("refused without a manifest")
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeDefer, "defer": ModeDefer, "favor_state": ModeFavorState,
		"favor-state": ModeFavorState, "off": ModeOff, " OFF ": ModeOff, "Favor_State": ModeFavorState} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseMode("always"); err == nil || !strings.Contains(err.Error(), "favor_state") {
		t.Errorf("ParseMode(always): %v", err)
	}
}

func BenchmarkDecideWarm(b *testing.B) {
	prod := mustLoad(b, "testdata/manifest_v11.json")
	req := Request{
		Ref: read("dbt_alice_marts", "orders"), Scope: Scope{Database: "warehouse"}, Manifest: prod,
		DevMap:  NewDevMap(DevMapConfig{Prod: prod, Target: DevTarget{"warehouse", "dbt_alice"}}),
		Catalog: NewStaticCatalog(),
	}
	b.ReportAllocs()
	for b.Loop() {
		if d, _ := Decide(context.Background(), req); d.Action != Defer {
			b.Fatal(d.Reason)
		}
	}
}
