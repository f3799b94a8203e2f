package awss3_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"carematch/awss3"
	"carematch/mhlw"
)

// fakeS3 speaks the two S3 calls the adapter makes, path-style:
// GET /bucket?list-type=2&prefix=…[&continuation-token=…] (ListObjectsV2,
// two keys per page so paging is exercised) and GET /bucket/key (GetObject).
type fakeS3 struct {
	bucket  string
	objects map[string]string
	mod     map[string]time.Time
	signed  bool
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		f.signed = true
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	if bucket != f.bucket {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message>no</Message></Error>`)
		return
	}
	if key == "" && r.URL.Query().Get("list-type") == "2" {
		prefix := r.URL.Query().Get("prefix")
		var keys []string
		for k := range f.objects {
			if strings.HasPrefix(k, prefix) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		start := 0
		if tok := r.URL.Query().Get("continuation-token"); tok != "" {
			fmt.Sscan(tok, &start)
		}
		end := min(start+2, len(keys))
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>%s</Name><Prefix>%s</Prefix><KeyCount>%d</KeyCount><MaxKeys>2</MaxKeys>`,
			f.bucket, prefix, end-start)
		if end < len(keys) {
			fmt.Fprintf(w, `<IsTruncated>true</IsTruncated><NextContinuationToken>%d</NextContinuationToken>`, end)
		} else {
			fmt.Fprint(w, `<IsTruncated>false</IsTruncated>`)
		}
		for _, k := range keys[start:end] {
			fmt.Fprintf(w, `<Contents><Key>%s</Key><LastModified>%s</LastModified><ETag>"x"</ETag><Size>%d</Size><StorageClass>STANDARD</StorageClass></Contents>`,
				k, f.mod[k].UTC().Format(time.RFC3339), len(f.objects[k]))
		}
		fmt.Fprint(w, `</ListBucketResult>`)
		return
	}
	body, ok := f.objects[key]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>no</Message></Error>`)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.Header().Set("Last-Modified", f.mod[key].UTC().Format(http.TimeFormat))
	io.WriteString(w, body)
}

func TestParse(t *testing.T) {
	for in, want := range map[string]string{
		"s3://open-data/mhlw":   "open-data|mhlw/",
		"s3://open-data/mhlw/":  "open-data|mhlw/",
		"s3://open-data":        "open-data|",
		"s3://open-data/a/b/c/": "open-data|a/b/c/",
	} {
		b, p, err := awss3.Parse(in)
		if err != nil || b+"|"+p != want {
			t.Errorf("Parse(%q) = %q %q %v, want %s", in, b, p, err, want)
		}
	}
	for _, bad := range []string{"s3:///x", "https://x/y", "/data/mhlw", ""} {
		if _, _, err := awss3.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestListAndOpenAgainstS3API(t *testing.T) {
	old, now := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f := &fakeS3{bucket: "open-data",
		objects: map[string]string{
			"mhlw/":                         "",
			"mhlw/2026-09/jigyosho_331.csv": "old",
			"mhlw/2026-12/jigyosho_331.csv": "new 331",
			"mhlw/2026-12/jigyosho_334.csv": "new 334",
			"other/jigyosho_331.csv":        "not under the prefix",
		},
		mod: map[string]time.Time{"mhlw/2026-09/jigyosho_331.csv": old, "mhlw/2026-12/jigyosho_331.csv": now, "mhlw/2026-12/jigyosho_334.csv": now},
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "ap-northeast-1")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	ctx := context.Background()
	p, err := awss3.Open(ctx, "s3://open-data/mhlw", func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != "s3://open-data/mhlw" {
		t.Errorf("String: %s", p)
	}
	objs, err := p.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 {
		t.Fatalf("listed %+v", objs)
	}
	latest := mhlw.Latest(objs)
	if len(latest) != 2 || latest[0].Key != "2026-12/jigyosho_331.csv" || !latest[0].Modified.Equal(now) || latest[1].Size != 7 {
		t.Fatalf("latest: %+v", latest)
	}
	r, err := p.Open(ctx, latest[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != "new 331" {
		t.Errorf("read %q", b)
	}
	if !f.signed {
		t.Error("requests were not signed (SigV4)")
	}
	if _, err := p.Open(ctx, "missing.csv"); err == nil {
		t.Error("a missing key opened")
	}
}
