// Command dbtgen writes a synthetic dbt project for bench/dbt_timing.sh: a few seeds, a staging view per seed and
// chains and fan-ins of table models over them (100 models by default), so that `dbt run -s <one model>` has a deep
// upstream to defer to production.
//
//	go run ./bench/dbtgen -out /tmp/dbtbench -models 100 -seeds 4
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	out := flag.String("out", "", "directory to write the project into (created)")
	models := flag.Int("models", 100, "number of models")
	seeds := flag.Int("seeds", 4, "number of seeds")
	rows := flag.Int("rows", 500, "rows per seed")
	flag.Parse()
	if *out == "" || *models < *seeds+1 || *seeds < 1 {
		fmt.Fprintln(os.Stderr, "usage: dbtgen -out DIR [-models N] [-seeds S] [-rows R] (N > S ≥ 1)")
		os.Exit(2)
	}
	if err := generate(*out, *models, *seeds, *rows); err != nil {
		fmt.Fprintf(os.Stderr, "dbtgen: %v\n", err)
		os.Exit(1)
	}
}

// generate writes dbt_project.yml, seeds/seed_<s>.csv and models/m_<i>.sql.
//
// Models m_000..m_<S-1> are staging views over the seeds. Every later model is a table: usually a link of a chain
// (it reads the model before it), every fifth a fan-in joining three earlier models. Every model has the columns
// (id, grp, val), so any model can read any other.
func generate(dir string, models, seeds, rows int) error {
	for _, d := range []string{"seeds", "models"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	project := `name: dbtbench
version: '1.0'
config-version: 2
profile: dbtbench
model-paths: ["models"]
seed-paths: ["seeds"]
models:
  dbtbench:
    +materialized: table
`
	if err := os.WriteFile(filepath.Join(dir, "dbt_project.yml"), []byte(project), 0o644); err != nil {
		return fmt.Errorf("write dbt_project.yml: %w", err)
	}
	for s := 0; s < seeds; s++ {
		var b strings.Builder
		b.WriteString("id,grp,val\n")
		for r := 1; r <= rows; r++ {
			fmt.Fprintf(&b, "%d,g%d,%d\n", r, (r*7+s)%10, (r*31+s*17)%1000)
		}
		if err := os.WriteFile(filepath.Join(dir, "seeds", fmt.Sprintf("seed_%d.csv", s)), []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("write seed: %w", err)
		}
	}
	name := func(i int) string { return fmt.Sprintf("m_%03d", i) }
	for i := 0; i < models; i++ {
		var sql string
		switch {
		case i < seeds:
			sql = fmt.Sprintf("{{ config(materialized='view') }}\nselect id, grp, val from {{ ref('seed_%d') }}\n", i)
		case i%5 == 0 && i >= seeds+2:
			// Fan-in: the previous model, one two back and a staging view.
			sql = fmt.Sprintf(`select a.id, a.grp, a.val + coalesce(b.val, 0) + coalesce(c.val, 0) as val
from {{ ref('%s') }} as a
left join {{ ref('%s') }} as b on b.id = a.id
left join {{ ref('%s') }} as c on c.id = a.id
`, name(i-1), name(i-2), name(i%seeds))
		default:
			sql = fmt.Sprintf("select id, grp, (val * 3 + %d) %% 1000 as val from {{ ref('%s') }}\n", i, name(i-1))
		}
		if err := os.WriteFile(filepath.Join(dir, "models", name(i)+".sql"), []byte(sql), 0o644); err != nil {
			return fmt.Errorf("write model: %w", err)
		}
	}
	return nil
}
