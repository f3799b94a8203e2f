package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"carematch/mhlw"
)

// The ledger of open-data files the mhlw-import job imported (mhlw.Ledger).

// Imported reports whether the file name with this content was imported.
func (db *DB) Imported(ctx context.Context, name, sha256 string) (bool, error) {
	var ok bool
	err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mhlw_import_files WHERE name = $1 AND sha256 = $2)`, name, sha256).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("mhlw import files: %w", err)
	}
	return ok, nil
}

// RecordImported adds files to the ledger; a file already there stays as
// first recorded.
func (db *DB) RecordImported(ctx context.Context, files []mhlw.ImportedFile) error {
	err := db.InTx(ctx, func(tx pgx.Tx) error {
		for _, f := range files {
			if _, err := tx.Exec(ctx, `
				INSERT INTO mhlw_import_files (name, sha256, location, size) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, f.Name, f.SHA256, f.Location, f.Size); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mhlw import files: record: %w", err)
	}
	return nil
}
