package fakesnow

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// TestStart: fakesnow answers a login on its port, and Stop ends it.
func TestStart(t *testing.T) {
	s := Start(t)
	body := []byte(`{"data":{"LOGIN_NAME":"u","PASSWORD":"p","ACCOUNT_NAME":"x","SESSION_PARAMETERS":{}}}`)
	resp, err := http.Post(s.URL+"/session/v1/login-request?databaseName=db", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Success bool
		Data    struct{ Token string }
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if err != nil || !out.Success || out.Data.Token == "" {
		t.Fatalf("login: %v %+v\n%s", err, out, s.Log())
	}
	s.Stop()
	if _, err := http.Get(s.URL + "/"); err == nil {
		t.Errorf("fakesnow still answers after Stop")
	}
}
