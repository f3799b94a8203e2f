package config_test

import (
	"strings"
	"testing"
	"time"

	"carematch/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := config.Parse(env(map[string]string{"DATABASE_URL": "postgres://u@h/db"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.DrainDelay != 5*time.Second || c.DBMaxConns != 10 || c.AutoMigrate {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestInvalidValuesAreNamed(t *testing.T) {
	_, err := config.Parse(env(map[string]string{
		"DATABASE_URL":           "mysql://x",
		"CAREMATCH_DB_MAX_CONNS": "lots",
		"CAREMATCH_AUTO_MIGRATE": "perhaps",
		"CAREMATCH_PUBLIC_URL":   "carematch.jp",
		"CAREMATCH_HTTP_ADDR":    "8080",
	}))
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for _, want := range []string{"DATABASE_URL", "postgres://", "CAREMATCH_DB_MAX_CONNS", "integer", "CAREMATCH_AUTO_MIGRATE", "true or false", "CAREMATCH_PUBLIC_URL", "CAREMATCH_HTTP_ADDR"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), "mysql://x") {
		t.Error("a secret's value was echoed in the error")
	}
}
