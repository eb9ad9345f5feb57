package main

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// findDevManifest gives a proxy with a production manifest the developer's dev manifest without configuration: when
// dev_manifest is not set, the dbt project in project_dir — or in cwd, when it holds dbt_project.yml — has its
// manifest at <target path>/manifest.json, the target path being $DBT_TARGET_PATH, else dbt_project.yml's
// target-path, else "target", relative to the project as dbt resolves it (docs/SPEC.md §3.1). It records in Sources
// where the dev manifest came from, for the start-up log and status.
func (c *Config) findDevManifest(getenv func(string) (string, bool), cwd string) error {
	if c.DevManifest != "" || c.Manifest == "" {
		return nil // explicit wins; without production nothing maps
	}
	dir, from := c.ProjectDir, c.Sources["project_dir"]
	if dir == "" {
		if _, err := os.Stat(filepath.Join(cwd, "dbt_project.yml")); err != nil {
			return nil
		}
		dir, from = cwd, "the current directory, which holds dbt_project.yml"
	}
	abs, targetFrom, err := dbtManifestPath(dir, getenv)
	if err != nil {
		return fmt.Errorf("project_dir %s%s: %w", dir, c.origin("project_dir"), err)
	}
	c.DevManifest = abs
	if c.Sources == nil {
		c.Sources = map[string]string{}
	}
	c.Sources["dev_manifest"] = fmt.Sprintf("the dbt project in %s (%s; target path from %s)", dir, from, targetFrom)
	return nil
}

// dbtManifestPath is where dbt writes the manifest of the project in dir: <target path>/manifest.json, the target
// path being $DBT_TARGET_PATH, else dbt_project.yml's target-path, else "target", relative to the project. from says
// which.
func dbtManifestPath(dir string, getenv func(string) (string, bool)) (path, from string, err error) {
	project, err := os.ReadFile(filepath.Join(dir, "dbt_project.yml"))
	if err != nil {
		return "", "", fmt.Errorf("%w (point it at the directory holding dbt_project.yml)", err)
	}
	target, from := "target", "dbt's default target path"
	var cfg struct {
		TargetPath string `yaml:"target-path"`
	}
	if err := yaml.Unmarshal(project, &cfg); err != nil {
		return "", "", fmt.Errorf("read dbt_project.yml: %w", err)
	}
	if cfg.TargetPath != "" {
		target, from = cfg.TargetPath, "target-path in dbt_project.yml"
	}
	if v, ok := getenv("DBT_TARGET_PATH"); ok && v != "" {
		target, from = v, "DBT_TARGET_PATH"
	}
	if !filepath.IsAbs(target) {
		target = filepath.Join(dir, target)
	}
	path, err = filepath.Abs(filepath.Join(target, "manifest.json"))
	return path, from, err
}
