package rewrite_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/deferproxy/deferproxy/internal/pgtest"
	"github.com/deferproxy/deferproxy/rewrite"
)

// toAnalytics defers every read of schema dbt_fabio to schema analytics, as the defer engine would for nodes
// that exist only in production.
type toAnalytics struct{}

func (toAnalytics) Resolve(ref rewrite.Reference) ([]string, bool) {
	n := ref.Normalized
	if len(n) < 2 || n[len(n)-2] != "dbt_fabio" {
		return nil, false
	}
	out := append([]string(nil), n...)
	out[len(out)-2] = "analytics"
	return out, true
}

// TestRewrittenStatementsRunOnServer runs rewritten statements on a real PostgreSQL where the dev schema lacks the
// relations the production schema has: each must succeed and read production's rows, while writes stay in dev.
func TestRewrittenStatementsRunOnServer(t *testing.T) {
	c := pgtest.Shared(t)
	db := c.NewDatabase(t)
	c.Exec(t, db, `
create schema dbt_fabio; create schema analytics;
create table analytics.orders (id int, amount int); insert into analytics.orders values (1, 10), (2, 20);
create table analytics."Order Items" (order_id int, sku text); insert into analytics."Order Items" values (1, 'a'), (2, 'b');
create table analytics.größe (id int); insert into analytics.größe values (7);
create table dbt_fabio.fct (id int, total int);
`)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.URL("postgres", "", db))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	queries := []struct {
		sql  string
		want int64 // the single integer the statement returns
	}{
		{`select count(*) from dbt_fabio.orders`, 2},
		{`select sum(dbt_fabio.orders.amount) from "dbt_fabio"."orders" where dbt_fabio.orders.id > 0`, 30},
		{`with orders as (select * from dbt_fabio.orders where id = 1) select count(*) from orders`, 1},
		{`select count(*) from dbt_fabio."Order Items" oi join dbt_fabio.orders o on o.id = oi.order_id`, 2},
		{`select id from DBT_FABIO.größe`, 7},
		{`select count(*) from (select * from dbt_fabio.orders where amount > $1) as model_limit_subq limit 10`, 1},
		{`/* {"app": "dbt", "node_id": "model.x.y"} */ select max(id) from dbt_fabio.orders`, 2},
	}
	for _, q := range queries {
		res, err := rewrite.RewriteSQL(q.sql, toAnalytics{})
		if err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
		if len(res.Deferrals) == 0 {
			t.Errorf("%s: nothing deferred", q.sql)
			continue
		}
		var args []any
		if containsParam(q.sql) {
			args = append(args, 15)
		}
		var got int64
		if err := conn.QueryRow(ctx, res.SQL, args...).Scan(&got); err != nil {
			t.Errorf("rewritten %q: %v", res.SQL, err)
			continue
		}
		if got != q.want {
			t.Errorf("rewritten %q returned %d, want %d", res.SQL, got, q.want)
		}
	}

	// A write keeps its dev target while its reads come from production.
	res, err := rewrite.RewriteSQL(`insert into dbt_fabio.fct select id, sum(amount) from dbt_fabio.orders group by id`, toAnalytics{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, res.SQL); err != nil {
		t.Fatalf("%s: %v", res.SQL, err)
	}
	var n int64
	if err := conn.QueryRow(ctx, `select count(*) from dbt_fabio.fct`).Scan(&n); err != nil || n != 2 {
		t.Errorf("dev target has %d rows (%v), want 2", n, err)
	}
}

func containsParam(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '$' && s[i+1] >= '1' && s[i+1] <= '9' {
			return true
		}
	}
	return false
}
