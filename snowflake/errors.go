package snowflake

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/deferproxy/deferproxy/engine"
)

// Snowflake error codes the front end answers with itself. The connectors show code, SQLSTATE and message; they
// retry on HTTP status (5xx), not on these codes, except 390112 (renew the session token), which deferproxy never
// sends.
const (
	codeAccess     = "003001" // SQL access control error: a refusal with SQLSTATE 42501
	codeAborted    = "000603" // processing aborted: any other refusal
	codeBadRequest = "390400" // the request could not be read
	codeNoSession  = "390111" // session no longer exists: a token deferproxy did not see log in
	codeUpstream   = "390503" // the upstream could not be reached
)

// errorBody is the content of a Snowflake error response.
type errorBody struct {
	Code     string
	SQLState string
	Message  string
}

// refusalBody is the engine's refusal as Snowflake says it: its SQLSTATE, and its detail and hint as lines of the
// one message text the connectors show.
func refusalBody(r *engine.Refusal) errorBody {
	code := codeAborted
	if r.Code == "42501" {
		code = codeAccess
	}
	var msg strings.Builder
	msg.WriteString(r.Message)
	if r.Detail != "" {
		msg.WriteString("\nDETAIL: " + r.Detail)
	}
	if r.Hint != "" {
		msg.WriteString("\nHINT: " + r.Hint)
	}
	return errorBody{Code: code, SQLState: r.Code, Message: msg.String()}
}

// writeError answers with a Snowflake error body: success false, a code, data.sqlState. Snowflake itself answers SQL
// errors with HTTP 200, so status is 200 for those.
func writeError(w http.ResponseWriter, status int, e errorBody) {
	code, _ := strconv.Atoi(e.Code)
	b, _ := json.Marshal(map[string]any{
		"success": false,
		"code":    e.Code,
		"message": e.Message,
		"data": map[string]any{
			"errorCode":     e.Code,
			"sqlState":      e.SQLState,
			"internalError": false,
			"age":           0,
			"line":          -1,
			"pos":           -1,
			"type":          "COMPILATION",
			"errorNumber":   code,
		},
		"headers": nil,
	})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
