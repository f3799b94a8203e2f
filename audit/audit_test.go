package audit_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"carematch/audit"
)

func TestStreamWritesOneAuditLinePerEvent(t *testing.T) {
	var b strings.Builder
	s := audit.NewStream(&b)
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	e := audit.Event{At: at, UserID: 7, Role: "consultant", IP: "192.0.2.1", RequestID: "r1"}
	if err := s.Write(e.With(42, audit.View, "contact_name", "phone"), e.With(0, audit.List)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), b.String())
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"log_type": "audit", "time": "2026-11-25T10:00:00Z", "user_id": 7.0, "role": "consultant",
		"case_id": 42.0, "action": "view", "fields": []any{"contact_name", "phone"}, "ip": "192.0.2.1", "request_id": "r1"}
	if len(got) != len(want) {
		t.Fatalf("line %s", lines[0])
	}
	for k, v := range want {
		if gb, _ := json.Marshal(got[k]); string(gb) != mustJSON(v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if !strings.Contains(lines[1], `"fields":[]`) || strings.Contains(lines[1], "case_id") {
		t.Errorf("list line %s", lines[1])
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestValidate(t *testing.T) {
	ok := audit.Event{At: time.Now(), UserID: 1, Role: "manager", Action: audit.View}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	// A scheduled job acts as the system: user 0, role "system".
	if err := (audit.Event{At: ok.At, Role: audit.System, Action: audit.Anonymise, CaseID: 7}).Validate(); err != nil {
		t.Fatal(err)
	}
	for _, e := range []audit.Event{
		{At: ok.At, Role: "manager", Action: audit.View},
		{At: ok.At, UserID: 1, Action: audit.View},
		{At: ok.At, UserID: 1, Role: "manager"},
		{UserID: 1, Role: "manager", Action: audit.View},
		{At: ok.At, UserID: 0, Role: "manager", Action: audit.View},
		{At: ok.At, UserID: -1, Role: audit.System, Action: audit.Anonymise},
	} {
		if err := e.Validate(); !errors.Is(err, audit.ErrInvalid) {
			t.Errorf("%+v: %v", e, err)
		}
	}
}
