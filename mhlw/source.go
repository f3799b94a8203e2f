package mhlw

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The mhlw-import job: the latest open-data files from a location (a local
// folder, or an S3 prefix through package awss3), imported unless exactly
// those files were imported before.

// Object is one file in a Source.
type Object struct {
	Key      string // what Open takes: a path below the folder, or an S3 key
	Size     int64
	Modified time.Time
}

// Name is the file's base name (jigyosho_331.csv).
func (o Object) Name() string { return path.Base(filepath.ToSlash(o.Key)) }

// Source is a place open-data files are published to.
type Source interface {
	// List returns every object under the location, at any depth.
	List(ctx context.Context) ([]Object, error)
	// Open reads one object.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// String names the location for logs and the ledger (no secrets).
	String() string
}

// Folder is a local directory as a Source.
type Folder struct{ Dir string }

func (f Folder) String() string { return f.Dir }

// List walks the folder.
func (f Folder) List(ctx context.Context) ([]Object, error) {
	var out []Object
	err := filepath.WalkDir(f.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return ctx.Err()
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(f.Dir, p)
		if err != nil {
			return err
		}
		out = append(out, Object{Key: filepath.ToSlash(rel), Size: info.Size(), Modified: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("mhlw: list %s: %w", f.Dir, err)
	}
	return out, nil
}

// Open opens one file of the folder.
func (f Folder) Open(_ context.Context, key string) (io.ReadCloser, error) {
	if !fs.ValidPath(key) {
		return nil, fmt.Errorf("mhlw: %q is not a path inside %s", key, f.Dir)
	}
	r, err := os.Open(filepath.Join(f.Dir, filepath.FromSlash(key)))
	if err != nil {
		return nil, fmt.Errorf("mhlw: %w", err)
	}
	return r, nil
}

// Latest picks, for each file name ending in .csv (any case), the newest
// object by modification time (then by key, so dated folders such as
// 2026-12/jigyosho_331.csv win over 2026-09/): MHLW republishes the same
// file names, and a location may keep older copies. The result is sorted
// by name.
func Latest(objs []Object) []Object {
	best := map[string]Object{}
	for _, o := range objs {
		if !strings.EqualFold(path.Ext(o.Name()), ".csv") {
			continue
		}
		b, ok := best[o.Name()]
		if !ok || o.Modified.After(b.Modified) || (o.Modified.Equal(b.Modified) && o.Key > b.Key) {
			best[o.Name()] = o
		}
	}
	out := make([]Object, 0, len(best))
	for _, o := range best {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// ImportedFile is one file of the ledger of imports.
type ImportedFile struct {
	Name     string
	SHA256   string
	Location string
	Size     int64
}

// Ledger remembers which files were imported.
type Ledger interface {
	// Imported reports whether this name with this content was imported.
	Imported(ctx context.Context, name, sha256 string) (bool, error)
	// RecordImported adds files to the ledger (again is fine).
	RecordImported(ctx context.Context, files []ImportedFile) error
}

// LatestResult is what ImportLatest did.
type LatestResult struct {
	Files   []ImportedFile // the latest files found
	New     int            // how many of them had not been imported
	Skipped bool           // nothing new: nothing was parsed or written
	Report  Report         // the import, when there was one
}

// ImportLatest imports the latest open-data files of src. When every one
// of them (by name and SHA-256) was imported before, it does nothing. When
// any is new, it imports all of them together, because a facility listed
// in two service files (331 and 334) takes its type from both: importing
// one file alone would retype it. The upsert never changes a facility that
// is already up to date, so files imported again change nothing. The files
// are recorded after the import committed; a run that fails in between is
// redone whole by the next run, which the upsert makes harmless.
func ImportLatest(ctx context.Context, src Source, ledger Ledger, store Store) (LatestResult, error) {
	var res LatestResult
	objs, err := src.List(ctx)
	if err != nil {
		return res, err
	}
	latest := Latest(objs)
	if len(latest) == 0 {
		return res, fmt.Errorf("mhlw: no .csv file at %s", src)
	}
	datas := make([][]byte, 0, len(latest))
	for _, o := range latest {
		data, err := readObject(ctx, src, o)
		if err != nil {
			return res, err
		}
		sum := sha256.Sum256(data)
		f := ImportedFile{Name: o.Name(), SHA256: hex.EncodeToString(sum[:]), Location: locationOf(src, o), Size: int64(len(data))}
		res.Files = append(res.Files, f)
		done, err := ledger.Imported(ctx, f.Name, f.SHA256)
		if err != nil {
			return res, err
		}
		if !done {
			res.New++
		}
		datas = append(datas, data)
	}
	if res.New == 0 {
		res.Skipped = true
		return res, nil
	}
	parsed := make([]*File, 0, len(latest))
	for i, o := range latest {
		p, err := Parse(o.Name(), bytes.NewReader(datas[i]))
		if err != nil {
			return res, err
		}
		parsed = append(parsed, p)
	}
	res.Report, err = ImportParsed(ctx, store, parsed...)
	if err != nil {
		return res, err
	}
	if err := ledger.RecordImported(ctx, res.Files); err != nil {
		return res, err
	}
	return res, nil
}

func readObject(ctx context.Context, src Source, o Object) ([]byte, error) {
	r, err := src.Open(ctx, o.Key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("mhlw: read %s: %w", o.Key, err)
	}
	if len(data) > maxFileSize {
		return nil, &FileError{File: o.Name(), Msg: fmt.Sprintf("大きすぎます (%d MiB を超えています)", maxFileSize>>20)}
	}
	return data, nil
}

func locationOf(src Source, o Object) string {
	s := src.String()
	if strings.HasSuffix(s, "/") {
		return s + o.Key
	}
	return s + "/" + o.Key
}
