// Command manifestgen writes a synthetic dbt manifest.json (schema v12) for load benchmarks: -mb sets the size,
// with 500 nodes per MB (50 k nodes per 100 MB, as in issue 4), each shaped like a real dbt-postgres model node
// (raw and compiled code of a few hundred bytes to a few KB, columns, config, depends_on), plus sources, macros, a
// parent/child map and docs, in dbt's key order (metadata first).
//
//	go run ./bench/manifestgen -mb 100 -o /tmp/m100.json
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
)

func main() {
	mb := flag.Int("mb", 10, "approximate size in MB (500 nodes per MB)")
	out := flag.String("o", "", "output file (default stdout)")
	seed := flag.Uint64("seed", 1, "random seed (same seed, same file)")
	flag.Parse()
	w := io.Writer(os.Stdout)
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "manifestgen:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	g := &gen{w: bw, rnd: rand.New(rand.NewPCG(*seed, 42)), nodes: *mb * 500}
	g.manifest()
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "manifestgen:", err)
		os.Exit(1)
	}
}

type gen struct {
	w     *bufio.Writer
	rnd   *rand.Rand
	nodes int
}

const project = "synthetic"

func (g *gen) p(format string, a ...any) { fmt.Fprintf(g.w, format, a...) }

// q is a JSON string literal.
func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func modelName(i int) string { return fmt.Sprintf("model_%06d", i) }

var words = strings.Fields(`customer order payment amount status created updated region product quantity price
discount revenue margin account invoice subscription plan event session user device channel campaign source`)

func (g *gen) word() string { return words[g.rnd.IntN(len(words))] }

// code returns SQL of roughly n bytes selecting from deps.
func (g *gen) code(deps []string, compiled bool, n int) string {
	var b strings.Builder
	b.WriteString("with ")
	for i, d := range deps {
		if i > 0 {
			b.WriteString(",\n")
		}
		if compiled {
			fmt.Fprintf(&b, "%s as (\n    select * from \"analytics\".\"prod\".\"%s\"\n)", d, d)
		} else {
			fmt.Fprintf(&b, "%s as (\n    select * from {{ ref('%s') }}\n)", d, d)
		}
	}
	b.WriteString("\nselect\n")
	for b.Len() < n {
		fmt.Fprintf(&b, "    coalesce(%s.%s_%s, 0) as %s_%s_%d,\n", deps[0], g.word(), g.word(), g.word(), g.word(), g.rnd.IntN(100))
	}
	fmt.Fprintf(&b, "    1 as one\nfrom %s\n", deps[0])
	return b.String()
}

func (g *gen) manifest() {
	g.p(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "1.11.2", `)
	g.p(`"generated_at": "2026-11-01T06:00:00.000000Z", "invocation_id": "00000000-0000-4000-8000-000000000001", `)
	g.p(`"invocation_started_at": "2026-11-01T05:59:00.000000Z", "env": {}, "project_name": %q, "project_id": "0123456789abcdef", `, project)
	g.p(`"user_id": null, "send_anonymous_usage_stats": false, "adapter_type": "postgres", `)
	g.p(`"quoting": {"database": true, "schema": true, "identifier": true, "column": null}, "run_started_at": "2026-11-01T05:59:00.000000Z"}, `)
	g.p(`"nodes": {`)
	deps := make([][]string, g.nodes)
	for i := 0; i < g.nodes; i++ {
		if i > 0 {
			g.p(", ")
		}
		var d []string
		if i < 10 {
			d = []string{fmt.Sprintf("src_%d", i)}
		} else {
			for k := 0; k < 1+g.rnd.IntN(3); k++ {
				d = append(d, modelName(g.rnd.IntN(i)))
			}
		}
		deps[i] = d
		g.node(i, d)
	}
	g.p(`}, "sources": {`)
	for i := 0; i < 10; i++ {
		if i > 0 {
			g.p(", ")
		}
		id := fmt.Sprintf("source.%s.raw.src_%d", project, i)
		g.p(`%q: {"database": "analytics", "schema": "raw", "name": "src_%d", "resource_type": "source", "package_name": %q, `, id, i, project)
		g.p(`"unique_id": %q, "identifier": "src_%d", "loader": "", "columns": {}, "meta": {}, "config": {"enabled": true}, `, id, i)
		g.p(`"relation_name": "\"analytics\".\"raw\".\"src_%d\"", "created_at": 1760000000.0}`, i)
	}
	g.p(`}, "macros": {`)
	g.p(`"macro.dbt.generate_schema_name": {"name": "generate_schema_name", "resource_type": "macro", "package_name": "dbt", "unique_id": "macro.dbt.generate_schema_name", `)
	g.p(`"macro_sql": %s, "depends_on": {"macros": []}}`, q("{% macro generate_schema_name(custom_schema_name=none, node=none) -%}\n    {{ return(adapter.dispatch('generate_schema_name', 'dbt')(custom_schema_name, node)) }}\n{% endmacro %}"))
	for i := 0; i < g.nodes/50; i++ {
		id := fmt.Sprintf("macro.%s.helper_%d", project, i)
		g.p(`, %q: {"name": "helper_%d", "resource_type": "macro", "package_name": %q, "unique_id": %q, "macro_sql": %s, "depends_on": {"macros": []}, "description": "", "meta": {}, "arguments": []}`,
			id, i, project, id, q(fmt.Sprintf("{%% macro helper_%d(x) %%}\n  coalesce({{ x }}, 0) + %d\n{%% endmacro %%}", i, i)))
	}
	g.p(`}, "docs": {}, "exposures": {}, "metrics": {}, "groups": {}, "selectors": {}, "disabled": {}, "parent_map": {`)
	for i := 0; i < g.nodes; i++ {
		if i > 0 {
			g.p(", ")
		}
		g.p(`%q: [`, fmt.Sprintf("model.%s.%s", project, modelName(i)))
		for k, d := range deps[i] {
			if k > 0 {
				g.p(", ")
			}
			g.p(`%q`, fmt.Sprintf("model.%s.%s", project, d))
		}
		g.p(`]`)
	}
	g.p(`}, "child_map": {}, "group_map": {}, "saved_queries": {}, "semantic_models": {}, "unit_tests": {}, "functions": {}}`)
}

func (g *gen) node(i int, deps []string) {
	name := modelName(i)
	id := fmt.Sprintf("model.%s.%s", project, name)
	mat := []string{"table", "view", "view", "incremental", "ephemeral"}[g.rnd.IntN(5)]
	custom := "null"
	schema := "prod"
	if i%7 == 0 {
		custom, schema = `"marts"`, "prod_marts"
	}
	rel := fmt.Sprintf(`"\"analytics\".\"%s\".\"%s\""`, schema, name)
	if mat == "ephemeral" {
		rel = "null"
	}
	// 50 k nodes per 100 MB leaves about 2 KB per node, of which dbt's fixed fields take about 1.6 KB: compiled
	// code between 100 and 500 bytes (a typical staging model), raw code a third of that, a documented column on
	// one node in four.
	size := 100 + g.rnd.IntN(400)
	var depIDs []string
	for _, d := range deps {
		if strings.HasPrefix(d, "src_") {
			depIDs = append(depIDs, q(fmt.Sprintf("source.%s.raw.%s", project, d)))
		} else {
			depIDs = append(depIDs, q(fmt.Sprintf("model.%s.%s", project, d)))
		}
	}
	g.p(`%q: {"database": "analytics", "schema": %q, "name": %q, "resource_type": "model", "package_name": %q, `, id, schema, name, project)
	g.p(`"path": "marts/%s.sql", "original_file_path": "models/marts/%s.sql", "unique_id": %q, "fqn": [%q, "marts", %q], `, name, name, id, project, name)
	g.p(`"alias": %q, "checksum": {"name": "sha256", "checksum": "%064x"}, `, name, g.rnd.Uint64())
	g.p(`"config": {"enabled": true, "alias": null, "schema": %s, "database": null, "tags": [], "meta": {}, "group": null, "materialized": %q, `, custom, mat)
	g.p(`"incremental_strategy": null, "batch_size": null, "lookback": 1, "begin": null, "persist_docs": {}, "post-hook": [], "pre-hook": [], `)
	g.p(`"quoting": {}, "column_types": {}, "full_refresh": null, "unique_key": null, "on_schema_change": "ignore", `)
	g.p(`"grants": {}, "packages": [], "docs": {"show": true, "node_color": null}, "contract": {"enforced": false, "alias_types": true}, "access": "protected"}, `)
	g.p(`"tags": [], "description": %s, "columns": {`, q("The "+g.word()+" "+g.word()+" model, one row per "+g.word()+"."))
	for c := 0; c < 1 && i%4 == 0; c++ {
		if c > 0 {
			g.p(", ")
		}
		col := fmt.Sprintf("%s_%s_%d", g.word(), g.word(), c)
		g.p(`%q: {"name": %q, "description": %s, "meta": {}, "data_type": null, "constraints": [], "quote": null, "config": {"meta": {}, "tags": []}, "tags": [], "granularity": null, "doc_blocks": []}`,
			col, col, q("The "+g.word()+" of the "+g.word()+"."))
	}
	g.p(`}, "meta": {}, "group": null, "docs": {"show": true, "node_color": null}, "patch_path": null, "build_path": null, `)
	g.p(`"unrendered_config": {"materialized": %q}, "created_at": 1760000000.0, "relation_name": %s, `, mat, rel)
	g.p(`"raw_code": %s, "doc_blocks": [], "language": "sql", "refs": [], "sources": [], "metrics": [], "functions": [], `, q(g.code(deps, false, size/3)))
	g.p(`"depends_on": {"macros": [], "nodes": [%s]}, "compiled_path": "target/compiled/%s/models/marts/%s.sql", "compiled": true, `, strings.Join(depIDs, ", "), project, name)
	g.p(`"compiled_code": %s, "extra_ctes_injected": true, "extra_ctes": [], "contract": {"enforced": false, "alias_types": true, "checksum": null}, `, q(g.code(deps, true, size)))
	g.p(`"access": "protected", "constraints": [], "version": null, "latest_version": null, "deprecation_date": null, "primary_key": [], "time_spine": null}`)
}
