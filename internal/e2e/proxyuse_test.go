package e2e

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// proxyURL is a pgx URL of the project database through a proxy.
func proxyURL(px *proxyHandle, db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", px.Port, db)
}

// previewRows extracts the table dbt show prints ("| a | b |" lines).
func previewRows(out string) []string {
	var rows []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "|") {
			rows = append(rows, strings.TrimSpace(l))
		}
	}
	return rows
}

// TestShowReadsProduction: in an empty dev schema, `dbt show -s <model>` through the proxy previews production's data
// exactly as native `dbt show --defer` does, and a plain pgx query of a dev relation that does not exist reads the
// production relation.
func TestShowReadsProduction(t *testing.T) {
	r := rigFor(t, jaffleShop)
	for _, model := range []string{"stg_customers", "customers"} {
		t.Run(model, func(t *testing.T) {
			args := []string{"show", "-s", model, "--limit", "200"}
			native := r.runDevOpts(t, "native", modeDefer, args, devOpts{noStale: true})
			if native.run.ExitCode != 0 {
				t.Fatalf("native dbt show failed:\n%s", tail(native.run.Output, 4000))
			}
			proxied := r.runDevOpts(t, "proxy", modeDefer, args, devOpts{noStale: true})
			if proxied.run.ExitCode != 0 {
				t.Fatalf("dbt show through the proxy failed:\n%s\n%s", tail(proxied.run.Output, 4000), proxied.note)
			}
			nr, pr := previewRows(native.run.Output), previewRows(proxied.run.Output)
			if len(nr) < 3 {
				t.Fatalf("native preview has no rows:\n%s", native.run.Output)
			}
			if strings.Join(nr, "\n") != strings.Join(pr, "\n") {
				t.Errorf("preview differs\nnative:\n%s\nproxy:\n%s", strings.Join(nr, "\n"), strings.Join(pr, "\n"))
			}
			// Production's last names were changed after its build; stg_customers is a view, so it shows them.
			if model == "stg_customers" && !strings.Contains(strings.Join(pr, "\n"), "_prod") {
				t.Errorf("proxy preview does not show production's data:\n%s", strings.Join(pr, "\n"))
			}
			if len(proxied.snap) != 0 {
				t.Errorf("dbt show created dev relations: %v", proxied.snap)
			}
		})
	}

	t.Run("pgx", func(t *testing.T) {
		resetDev(t, r.url)
		px := startProxy(t, r.url, filepath.Join(r.prodState, "manifest.json"), modeDefer, "")
		defer px.stop()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		const q = `select count(*)::text || ' ' || max(last_name) || ' ' || sum(customer_id)::text from %s.stg_customers`
		direct, err := pgx.Connect(ctx, r.url)
		if err != nil {
			t.Fatal(err)
		}
		defer direct.Close(ctx)
		want, err := queryStrings(ctx, direct, fmt.Sprintf(q, prodSchema))
		if err != nil {
			t.Fatal(err)
		}
		// Directly, the dev relation does not exist: the proxy is what makes the query work.
		_, err = queryStrings(ctx, direct, fmt.Sprintf(q, devSchema))
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42P01" {
			t.Fatalf("direct query of the missing dev relation: want 42P01, got %v", err)
		}
		viaProxy, err := pgx.Connect(ctx, proxyURL(px, r.db))
		if err != nil {
			t.Fatalf("connect through the proxy: %v", err)
		}
		defer viaProxy.Close(ctx)
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeDescribeExec} {
			rows, err := viaProxy.Query(ctx, fmt.Sprintf(q, devSchema), mode)
			if err != nil {
				t.Fatalf("query the missing dev relation through the proxy (%v): %v\n%s", mode, err, px.status())
			}
			var got []string
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				got = append(got, s)
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("query the missing dev relation through the proxy (%v): %v\n%s", mode, err, px.status())
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("through the proxy (%v): got %q, want production's %q", mode, got, want)
			}
		}
	})
}

// TestProdWriteRefused: a dev session's statement that writes into a production relation (or into the production
// schema) is refused with SQLSTATE 42501 and production is unchanged; the session stays usable.
func TestProdWriteRefused(t *testing.T) {
	r := rigFor(t, jaffleShop)
	resetDev(t, r.url)
	px := startProxy(t, r.url, filepath.Join(r.prodState, "manifest.json"), modeDefer, "")
	defer px.stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fingerprint := func() string {
		conn, err := pgx.Connect(ctx, r.url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		rows, err := queryStrings(ctx, conn, `select string_agg(c.relname || ':' || c.relkind::text, ',' order by c.relname)
			from pg_class c join pg_namespace n on n.oid = c.relnamespace
			where n.nspname = 'analytics' and c.relkind in ('r','v','m')`)
		if err != nil {
			t.Fatal(err)
		}
		var fp []string
		fp = append(fp, rows...)
		for _, rel := range []string{"raw_orders", "raw_payments", "customers", "orders"} {
			v, err := queryStrings(ctx, conn, fmt.Sprintf(`select count(*)::text || '/' || md5(string_agg(t::text, ',' order by t::text))
				from analytics.%s t`, rel))
			if err != nil {
				t.Fatal(err)
			}
			fp = append(fp, rel+"="+strings.Join(v, ""))
		}
		return strings.Join(fp, "\n")
	}
	before := fingerprint()
	conn, err := pgx.Connect(ctx, proxyURL(px, r.db))
	if err != nil {
		t.Fatalf("connect through the proxy: %v", err)
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{
		`insert into analytics.raw_orders (id, user_id, order_date, status) values (9999, 1, '2024-01-01', 'placed')`,
		`update analytics.customers set first_name = 'overwritten'`,
		`delete from analytics.orders`,
		`truncate analytics.raw_payments`,
		`drop table analytics.customers`,
		`drop view analytics.stg_orders cascade`,
		`alter table analytics.orders rename to orders_old`,
		`create table analytics.brand_new as select 1 as x`,
		`/* {"app": "dbt", "node_id": "model.jaffle_shop.customers"} */ create table "` + r.db + `"."analytics"."customers__dbt_tmp" as (select 1 as x)`,
	} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeDescribeExec} {
			_, err := conn.Exec(ctx, stmt, mode)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
				t.Errorf("%v %q: want SQLSTATE 42501, got %v", mode, stmt, err)
				continue
			}
			if !strings.Contains(pgErr.Message, "analytics") {
				t.Errorf("%q: the refusal does not name the production relation: %s", stmt, pgErr.Message)
			}
		}
	}
	if v, err := queryStrings(ctx, conn, "select 'still usable'"); err != nil || len(v) != 1 {
		t.Errorf("session unusable after refusals: %v %v", v, err)
	}
	// A dev write in the same session goes through.
	if _, err := conn.Exec(ctx, `create table dbt_dev.scratch as select * from dbt_dev.stg_orders limit 3`); err != nil {
		t.Errorf("dev write through the proxy: %v", err)
	}
	if after := fingerprint(); after != before {
		t.Errorf("production changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestFullBuildThroughProxy: a full `dbt build` of jaffle_shop into an empty dev schema through the proxy gives the
// same relations and rows as the same build direct to PostgreSQL (no --defer either way), and reads nothing from
// production: every ref exists in dev by the time it is read.
func TestFullBuildThroughProxy(t *testing.T) {
	r := rigFor(t, jaffleShop)
	args := []string{"build"}
	native := r.runDevOpts(t, "native", modeDefer, args, devOpts{noStale: true, noDefer: true})
	if native.run.ExitCode != 0 {
		t.Fatalf("direct dbt build failed:\n%s", tail(native.run.Output, 4000))
	}
	proxied := r.runDevOpts(t, "proxy", modeDefer, args, devOpts{noStale: true})
	compareRuns(t, native, proxied)
	for rel := range proxied.named {
		if strings.HasPrefix(rel, prodSchema+".") {
			t.Errorf("a full dev build through the proxy read production relation %s", rel)
		}
	}
	if len(native.snap) < 8 {
		t.Errorf("direct build left only %d dev relations", len(native.snap))
	}
}

// TestDevManifestNeeded is the control of devMapProj's fidelity cases: without the dev manifest the proxy cannot
// know that dbt_dev_staging.stg_orders is model stg_orders (derivation is refused for the project's
// generate_schema_name, and the engine says why), so nothing defers and the dev run fails on the missing relation,
// as a plain dev run without --defer does. With the dev manifest, the same run reads production.
func TestDevManifestNeeded(t *testing.T) {
	r := rigFor(t, devMapProj)
	args := []string{"run", "-s", "customer_totals"}
	without := r.runDevOpts(t, "proxy", modeDefer, args, devOpts{noStale: true, noDevManifest: true})
	if without.run.ExitCode == 0 {
		t.Fatalf("without the dev manifest the run should fail on dbt_dev_staging.stg_orders; it passed\n%s", without.note)
	}
	if !strings.Contains(without.run.Output, "dbt_dev_staging") || !strings.Contains(without.run.Output, "does not exist") {
		t.Errorf("want PostgreSQL's missing-relation error for a dbt_dev_staging relation:\n%s", tail(without.run.Output, 3000))
	}
	if !strings.Contains(without.note, "generate_schema_name") {
		t.Errorf("the engine's mapping status should say why derivation was refused:\n%s", tail(without.note, 3000))
	}
	with := r.runDevOpts(t, "proxy", modeDefer, args, devOpts{noStale: true})
	if with.run.ExitCode != 0 {
		t.Fatalf("with the dev manifest the run should pass:\n%s\n%s", tail(with.run.Output, 3000), with.note)
	}
	checkReads(t, with, []string{"analytics.stg_orders", "analytics.stg_customers"})
	if !strings.Contains(with.note, "dev-manifest") {
		t.Errorf("the engine's mapping status should name the dev manifest:\n%s", tail(with.note, 3000))
	}
}
