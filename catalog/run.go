package catalog

import (
	"net/url"
	"strings"
	"time"
)

// Run identifies the production run that produced a manifest (SPEC §7): what the NOTICE, `deferproxy status`, the
// admin page and the log name. A scheduler source (dbt Cloud, Paradime) fills it from the scheduler's API; for
// file, HTTP and S3 sources it comes from the manifest's metadata and the manifest_run_url template.
type Run struct {
	// ID is the scheduler's run id, or the manifest's invocation_id when the source knows no run.
	ID string `json:"id"`
	// Job names the job or schedule that ran it ("" when unknown).
	Job string `json:"job,omitempty"`
	// FinishedAt is when the run finished (the scheduler's time, else the manifest's generated_at).
	FinishedAt time.Time `json:"finished_at"`
	// URL is the run's page in the scheduler's UI ("" when unknown).
	URL string `json:"url,omitempty"`
	// Source is the manifest source it came from, without secrets.
	Source string `json:"source"`
}

// Label names the run for people: "nightly run 7000123", or the invocation id alone.
func (r Run) Label() string {
	id := r.ID
	if id == "" {
		id = "(no run id)"
	}
	if r.Job != "" {
		return r.Job + " run " + id
	}
	return id
}

// ExpandRunURL fills a manifest_run_url template such as https://ci.example/runs/{invocation_id}. The placeholders
// are {run_id}, {invocation_id}, {job}, {project} and {generated_at}; values are path-escaped. An empty template
// gives "".
func ExpandRunURL(tmpl string, run Run, md Metadata) string {
	if tmpl == "" {
		return ""
	}
	return strings.NewReplacer(
		"{run_id}", url.PathEscape(run.ID),
		"{invocation_id}", url.PathEscape(md.InvocationID),
		"{job}", url.PathEscape(run.Job),
		"{project}", url.PathEscape(md.ProjectName),
		"{generated_at}", url.PathEscape(md.GeneratedAt),
	).Replace(tmpl)
}

// completeRun fills what a source left out of a run from the manifest and the template.
func completeRun(r Run, md Metadata, tmpl, source string) Run {
	if r.ID == "" {
		r.ID = md.InvocationID
	}
	if r.FinishedAt.IsZero() {
		r.FinishedAt = md.GeneratedTime
	}
	if r.URL == "" {
		r.URL = ExpandRunURL(tmpl, r, md)
	}
	r.Source = source
	return r
}
