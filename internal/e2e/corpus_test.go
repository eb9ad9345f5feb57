package e2e

// The projects of the fidelity suite and, for each, the dev invocations compared natively and through the proxy.
//
// Every dev run starts from an empty dev schema plus the project's stale copies: dev tables whose data carries a
// "_stale" marker (or lacks rows), while production data was changed after the production build. So the rows of
// what a run builds show whether it read the stale dev copy or production, and `reads` names the relations dbt's rule
// says each mode must read.

var jaffleShop = &project{
	name:      "jaffle_shop",
	corpus:    "jaffle_shop",
	profile:   "jaffle_shop",
	prodBuild: [][]string{{"seed"}, {"run"}, {"test"}},
	prodChange: []string{
		`update {prod}.raw_customers set last_name = last_name || '_prod'`,
		`update {prod}.raw_payments set amount = amount + 1000 where id % 3 = 0`,
	},
	stale: []string{
		`create table {dev}.stg_customers as
			select customer_id, first_name || '_stale' as first_name, last_name from {prod}.stg_customers`,
		`create table {dev}.raw_orders as select * from {prod}.raw_orders where id % 2 = 0`,
	},
	cases: []fidelityCase{
		{name: "run stg_orders", args: []string{"run", "-s", "stg_orders"}, reads: map[string][]string{
			modeDefer:      {"dbt_dev.raw_orders"},
			modeFavorState: {"analytics.raw_orders"},
		}},
		{name: "run customers", args: []string{"run", "-s", "customers"}, reads: map[string][]string{
			modeDefer:      {"dbt_dev.stg_customers", "analytics.stg_orders", "analytics.stg_payments"},
			modeFavorState: {"analytics.stg_customers", "analytics.stg_orders", "analytics.stg_payments"},
		}},
		{name: "run stg_payments+", args: []string{"run", "-s", "stg_payments+"}, reads: map[string][]string{
			modeDefer:      {"dbt_dev.stg_payments", "dbt_dev.stg_customers", "analytics.stg_orders"},
			modeFavorState: {"dbt_dev.stg_payments", "analytics.stg_customers", "analytics.stg_orders"},
		}},
		// The seeds are reloaded in place (truncate + insert) into the stale dev raw_orders: in favor_state the proxy
		// must still treat raw_orders as selected (jaffle_shop's query comment carries no invocation_id).
		{name: "build +orders", args: []string{"build", "-s", "+orders"}, reads: map[string][]string{
			modeDefer:      {"dbt_dev.raw_orders", "dbt_dev.stg_orders", "dbt_dev.stg_payments"},
			modeFavorState: {"dbt_dev.raw_orders", "dbt_dev.stg_orders", "dbt_dev.stg_payments"},
		}},
		{name: "test customers", args: []string{"test", "-s", "customers"}, reads: map[string][]string{
			modeDefer:      {"analytics.customers", "analytics.orders"},
			modeFavorState: {"analytics.customers", "analytics.orders"},
		}},
	},
}

var alteredJaffleShop = &project{
	name:    "altered_jaffle_shop",
	corpus:  "altered_jaffle_shop",
	profile: "postgres_profile",
	// Its packages.yml asks the hub for dbt_utils (no network in CI); no model uses it.
	remove: []string{"packages.yml", "package-lock.yml", "profiles.yml"},
	// Sources read the raw seeds of the production schema (sources are never deferred).
	env: func(db string) []string {
		return []string{"POSTGRES_DB=" + db, "POSTGRES_SCHEMA=" + prodSchema}
	},
	prodBuild: [][]string{{"seed"}, {"run"}, {"test"}},
	prodChange: []string{
		`update {prod}.raw_customers set last_name = last_name || '_prod'`,
	},
	stale: []string{
		`create table {dev}.customers as
			select customer_id, first_name || '_stale' as first_name, last_name, first_order, most_recent_order,
				number_of_orders, customer_lifetime_value from {prod}.customers where customer_id % 2 = 0`,
	},
	cases: []fidelityCase{
		{name: "run ephemeral downstream", args: []string{"run", "-s", "ephemeral_customers_downstream"},
			reads: map[string][]string{
				modeDefer:      {"dbt_dev.customers"},
				modeFavorState: {"analytics.customers"},
			}},
		{name: "build stg_orders", args: []string{"build", "-s", "stg_orders"}, reads: map[string][]string{
			modeDefer:      {"analytics.raw_orders", "dbt_dev.stg_orders"},
			modeFavorState: {"analytics.raw_orders", "dbt_dev.stg_orders"},
		}},
	},
}

var dbtUtilsIntegration = &project{
	name:    "dbt_utils",
	corpus:  "dbt_utils",
	sub:     "integration_tests",
	profile: "integration_tests",
	remove:  []string{"profiles.yml"},
	deps:    true, // packages.yml is `local: ../`
	// The whole integration project builds in production (~20 s); the dev invocations are a representative subset:
	// the macros that introspect the relations they are handed (star, union_relations, unpivot) and those that run
	// queries at compile time (get_column_values, get_single_value).
	prodBuild: [][]string{{"seed"}, {"run"}, {"test"}},
	prodChange: []string{
		`update {prod}.data_get_column_values set field = field || '_prod' where field = 'a'`,
	},
	stale: []string{
		`create table {dev}.data_star as
			select field_1 || '_stale' as field_1, field_2, field_3, 'x' as field_4 from {prod}.data_star`,
		`create table {dev}.data_union_table_1 as
			select id, name || '_stale' as name, favorite_number, 'x' as stale_col from {prod}.data_union_table_1`,
	},
	cases: []fidelityCase{
		// In defer mode the stale dev data_star (an extra column, other rows) makes dbt_utils.equality fail: natively
		// and through the proxy alike, which is the point.
		{name: "build test_star", args: []string{"build", "-s", "test_star"}, mayFail: true, reads: map[string][]string{
			modeDefer:      {"dbt_dev.data_star"}, // the equality test stops at compile time: column counts differ
			modeFavorState: {"analytics.data_star", "analytics.data_star_expected"},
		}},
		// union_relations writes each relation's rendered name into _dbt_source_relation (a string literal: the dev
		// name through the proxy) and get_column_values asks adapter.get_relation first (None for a deferred ref
		// through the proxy, so it returns its default): README, "Differences from native defer", item 2. unpivot
		// and get_single_value, in the same run, must be identical.
		{name: "run introspecting macros",
			args: []string{"run", "-s", "test_union_base", "test_unpivot", "test_get_column_values", "test_get_single_value"},
			reads: map[string][]string{
				modeDefer: {"dbt_dev.data_union_table_1", "analytics.data_union_table_2", "analytics.data_unpivot",
					"analytics.data_get_column_values", "analytics.data_get_single_value"},
				modeFavorState: {"analytics.data_union_table_1", "analytics.data_union_table_2", "analytics.data_unpivot",
					"analytics.data_get_column_values", "analytics.data_get_single_value"},
			},
			differs: map[string]knownDifference{
				modeDefer:      introspectionDifference,
				modeFavorState: introspectionDifference,
			}},
	},
}

var introspectionDifference = knownDifference{
	why:         "ref() rendered into a literal / adapter.get_relation(ref(…)) see the dev relation through the proxy",
	dataDiffers: true,
	relations:   []string{"dbt_dev.test_union_base", "dbt_dev.test_get_column_values"},
}

var deferProj = &project{
	name:         "deferproj",
	testdata:     "deferproj",
	withDbtUtils: true,
	profile:      "deferproj",
	deps:         true,
	preBuild: []string{
		`create schema raw_data`,
		`create table raw_data.events as select g as event_id, g % 6 + 1 as customer_id,
			case when g % 2 = 0 then 'click' else 'view' end as kind from generate_series(1, 12) g`,
	},
	prodBuild: [][]string{{"build"}}, // seeds, the snapshot, models and tests in DAG order
	prodChange: []string{
		`update {prod}.raw_orders set amount = amount * 10`,
		`update {prod}.raw_customers set last_name = last_name || '_prod'`,
	},
	stale: []string{
		`create table {dev}.stg_customers as
			select customer_id, first_name || '_stale' as first_name, last_name, segment from {prod}.stg_customers`,
		`create table {dev}.orders_incremental as select * from {prod}.orders_incremental where order_id <= 5`,
		`create table {dev}.dim_customers as select *, 'stale' as stale_col from {prod}.dim_customers`,
		`create table {dev}.raw_orders as select * from {prod}.raw_orders where id % 2 = 0`,
	},
	cases: []fidelityCase{
		{name: "ephemeral chain and source", args: []string{"run", "-s", "customer_orders", "stg_events"},
			reads: map[string][]string{
				modeDefer:      {"dbt_dev.stg_customers", "analytics.stg_orders", "raw_data.events"},
				modeFavorState: {"analytics.stg_customers", "analytics.stg_orders", "raw_data.events"},
			}},
		{name: "incremental", args: []string{"run", "-s", "orders_incremental"}, reads: map[string][]string{
			modeDefer:      {"analytics.stg_orders", "dbt_dev.orders_incremental"},
			modeFavorState: {"analytics.stg_orders", "dbt_dev.orders_incremental"},
		}},
		{name: "custom schema and versions", args: []string{"run", "-s", "customer_summary", "orders_summary"},
			reads: map[string][]string{
				modeDefer: {"dbt_dev.stg_customers", "analytics.customer_orders", "analytics.fct_orders_v1",
					"analytics.fct_orders_v2", "dbt_dev_marts.customer_summary__dbt_tmp"},
				modeFavorState: {"analytics.stg_customers", "analytics.customer_orders", "analytics.fct_orders_v1",
					"analytics.fct_orders_v2", "dbt_dev_marts.customer_summary__dbt_tmp"},
			}},
		{name: "alias and star", args: []string{"run", "-s", "customer_report", "customers_star"},
			reads: map[string][]string{
				modeDefer:      {"dbt_dev.dim_customers"},
				modeFavorState: {"analytics.dim_customers"},
			}},
		// The jaffle_shop "build +orders" shape: the seed is reloaded in place (truncate + insert) into a stale dev
		// copy. With invocation_id in the query comment the proxy knows it is selected, in favor_state too.
		{name: "reseed in place", args: []string{"build", "-s", "+stg_orders"}, reads: map[string][]string{
			modeDefer:      {"dbt_dev.raw_orders"},
			modeFavorState: {"dbt_dev.raw_orders"},
		}},
		{name: "adapter.get_relation on a deferred ref", args: []string{"run", "-s", "upstream_probe"},
			reads: map[string][]string{
				modeDefer:      {"analytics.stg_orders"},
				modeFavorState: {"analytics.stg_orders"},
			}, differs: map[string]knownDifference{
				modeDefer: {why: "adapter.get_relation(ref(…)) sees the dev relation through the proxy",
					dataDiffers: true, relations: []string{"dbt_dev.upstream_probe"}},
				modeFavorState: {why: "adapter.get_relation(ref(…)) sees the dev relation through the proxy",
					dataDiffers: true, relations: []string{"dbt_dev.upstream_probe"}},
			}},
		{name: "snapshot", args: []string{"build", "-s", "customers_snapshot", "customers_current"},
			reads: map[string][]string{
				modeDefer:      {"dbt_dev.stg_customers", "dbt_dev.customers_snapshot"},
				modeFavorState: {"analytics.stg_customers", "dbt_dev.customers_snapshot"},
			}},
	},
}

// devMapProj maps dev relations with the dev manifest (SPEC §3.1): its generate_schema_name puts every node in
// analytics in production and in dbt_dev_<folder> in development, which no derivation can know.
var devMapProj = &project{
	name:        "devmapproj",
	testdata:    "devmapproj",
	profile:     "devmapproj",
	devManifest: true,
	prodBuild:   [][]string{{"seed"}, {"run"}},
	prodChange: []string{
		`update {prod}.raw_orders set amount = amount + 1000`,
		`update {prod}.stg_orders set amount = amount * 100`,
	},
	stale: []string{
		`create schema {dev}_staging`,
		`create table {dev}_staging.stg_customers as
			select customer_id, name || '_stale' as name from {prod}.stg_customers`,
	},
	cases: []fidelityCase{
		{name: "run customer_totals", args: []string{"run", "-s", "customer_totals"}, reads: map[string][]string{
			modeDefer:      {"dbt_dev_staging.stg_customers", "analytics.stg_orders"},
			modeFavorState: {"analytics.stg_customers", "analytics.stg_orders"},
		}},
		{name: "run stg_orders+", args: []string{"run", "-s", "stg_orders+"}, reads: map[string][]string{
			modeDefer:      {"analytics.raw_orders", "dbt_dev_staging.stg_customers", "dbt_dev_staging.stg_orders"},
			modeFavorState: {"analytics.raw_orders", "analytics.stg_customers", "dbt_dev_staging.stg_orders"},
		}},
	},
}

// snapProj has legacy snapshots whose target_schema is written over the target (a config() call's
// target.schema ~ '_snapshots', and a dbt_project.yml template) and a seed in a custom schema, mapped by derivation
// alone: before docs/SPEC.md §3.3 evaluated target_schema, a ref to such a snapshot failed with "relation
// dbt_dev_snapshots.orders_snapshot does not exist" through the proxy while native defer read production.
var snapProj = &project{
	name:      "snapproj",
	testdata:  "snapproj",
	profile:   "snapproj",
	prodBuild: [][]string{{"build"}},
	prodChange: []string{
		`update {prod}_snapshots.orders_snapshot set amount = amount * 10`,
		`update {prod}_history.payments_snapshot set amount = amount * 10`,
		`update {prod}_raw.raw_payments set amount = amount + 100`,
	},
	stale: []string{
		`create schema {dev}_snapshots`,
		`create table {dev}_snapshots.orders_snapshot as select * from {prod}_snapshots.orders_snapshot where order_id <= 2`,
	},
	cases: []fidelityCase{
		// The dev snapshot exists (stale): defer reads it; favor_state reads production's (the snapshot is not selected).
		{name: "snapshot with target_schema over the target", args: []string{"run", "-s", "order_history"},
			reads: map[string][]string{
				modeDefer:      {"dbt_dev_snapshots.orders_snapshot"},
				modeFavorState: {"analytics_snapshots.orders_snapshot"},
			}},
		// No dev copies: the YAML-configured snapshot and the custom-schema seed come from production in both modes.
		{name: "snapshot target_schema from dbt_project.yml and a custom-schema seed", args: []string{"run", "-s", "order_payments"},
			reads: map[string][]string{
				modeDefer:      {"analytics_raw.raw_payments", "analytics_history.payments_snapshot"},
				modeFavorState: {"analytics_raw.raw_payments", "analytics_history.payments_snapshot"},
			}},
	},
}

// fidelityProjects are all projects, in the order the suite runs them.
var fidelityProjects = []*project{jaffleShop, alteredJaffleShop, dbtUtilsIntegration, deferProj, devMapProj, snapProj}
