package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests run the real `carematch` binary as a child process, the way
// ECS runs it, against a real PostgreSQL database.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "carematch-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "carematch")
	build := exec.Command("go", "build", "-o", binary, "carematch/cmd/carematch")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		panic("build carematch: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// logBuffer collects a process's output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type process struct {
	cmd     *exec.Cmd
	base    string // http://127.0.0.1:PORT
	metrics string // http://127.0.0.1:PORT of the internal listener
	logs    *logBuffer
	done    chan error
}

// startServe starts `carematch serve` on free ports and waits until it
// listens.
func startServe(t *testing.T, dbURL string, env ...string) *process {
	t.Helper()
	p := &process{logs: &logBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(binary, "serve")
	p.cmd.Env = append(os.Environ(),
		"DATABASE_URL="+dbURL,
		"CAREMATCH_HTTP_ADDR=127.0.0.1:0",
		"CAREMATCH_METRICS_ADDR=127.0.0.1:0",
		"CAREMATCH_LOG_FORMAT=json",
	)
	p.cmd.Env = append(p.cmd.Env, env...)
	pr, pw := io.Pipe()
	p.cmd.Stdout = io.MultiWriter(p.logs, pw)
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var line struct {
				Msg         string `json:"msg"`
				Addr        string `json:"addr"`
				MetricsAddr string `json:"metrics_addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
				p.base, p.metrics = "http://"+line.Addr, "http://"+line.MetricsAddr
				close(found)
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-found:
	case err := <-p.done:
		t.Fatalf("carematch serve exited early (%v):\n%s", err, p.logs)
	case <-time.After(60 * time.Second):
		t.Fatalf("carematch serve did not start within 60s:\n%s", p.logs)
	}
	return p
}

// run runs a carematch command to completion.
func run(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

// startJob starts `carematch job run NAME` without waiting for it; its
// output goes to the returned buffer.
func startJob(t *testing.T, env []string, name string) (*exec.Cmd, *logBuffer) {
	t.Helper()
	cmd := exec.Command(binary, "job", "run", name)
	cmd.Env = append(os.Environ(), env...)
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, out
}
