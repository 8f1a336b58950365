package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sealpost/sealpost/internal/store"
)

// This file implements store.KeyStore (migration 3):
//
//	kms_keys(id PK, arn, account, region, description, key_state, key_manager,
//	    key_spec, key_usage, origin, created_at, deletion_date, pending_window_days,
//	    rotation_enabled, rotation_period_days, next_rotation, key_policy, tags,
//	    multi_region, current_version, revision, mac, due_at)
//	    index (account, region, id), index (due_at, id)
//	kms_materials(key_id, version, created_at, rotation_type, material_id,
//	    sealed; PK (key_id, version))
//	kms_aliases(account, region, name, key_id, created_at, updated_at;
//	    PK (account, region, name)), index (key_id)
//	kms_grants(id PK, key_id, grantee_principal, retiring_principal, operations,
//	    grant_constraints, name, created_at, issuing_account, mac)
//	    index (key_id, id), index (retiring_principal, id)
//
// Unset times (DeletionDate, NextRotation) are NULL. due_at is the earlier of
// deletion_date and next_rotation (NULL when both are), written with the
// record, so KeysDue reads an index range. tags is a JSON object, operations
// a JSON array. sealed holds the domain's sealed material as given.
//
// Writes that need the key (CreateAlias, UpdateAlias, CreateGrant,
// AddMaterial, UpdateKey) lock its row (SELECT ... FOR UPDATE) in their
// transaction, and DeleteKey deletes that row before the key's materials,
// aliases and grants in its transaction: so an alias or grant created
// concurrently with the key's deletion either fails with ErrNotFound or is
// deleted with the key.

const keyCols = `id, arn, account, region, description, key_state, key_manager, key_spec, key_usage, origin,
	created_at, deletion_date, pending_window_days, rotation_enabled, rotation_period_days, next_rotation,
	key_policy, tags, multi_region, current_version, revision, mac`

func scanKey(row pgx.Row) (store.Key, error) {
	var k store.Key
	var del, next *time.Time
	var tags string
	if err := row.Scan(&k.ID, &k.ARN, &k.Account, &k.Region, &k.Description, &k.KeyState, &k.KeyManager,
		&k.KeySpec, &k.KeyUsage, &k.Origin, &k.CreatedAt, &del, &k.PendingWindowDays, &k.RotationEnabled,
		&k.RotationPeriodDays, &next, &k.Policy, &tags, &k.MultiRegion, &k.CurrentVersion, &k.Revision, &k.MAC); err != nil {
		return store.Key{}, err
	}
	var err error
	if k.Tags, err = fromJSON(tags); err != nil {
		return store.Key{}, err
	}
	k.CreatedAt = utc(k.CreatedAt)
	if del != nil {
		k.DeletionDate = utc(*del)
	}
	if next != nil {
		k.NextRotation = utc(*next)
	}
	return k, nil
}

// nullTime is t for the database, NULL when unset.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func keyDue(k store.Key) any {
	d := k.DeletionDate
	if !k.NextRotation.IsZero() && (d.IsZero() || k.NextRotation.Before(d)) {
		d = k.NextRotation
	}
	return nullTime(d)
}

// truncKey is k as read back from the database.
func truncKey(k store.Key) store.Key {
	k.CreatedAt = utc(k.CreatedAt.Truncate(dbPrecision))
	if !k.DeletionDate.IsZero() {
		k.DeletionDate = utc(k.DeletionDate.Truncate(dbPrecision))
	}
	if !k.NextRotation.IsZero() {
		k.NextRotation = utc(k.NextRotation.Truncate(dbPrecision))
	}
	if k.Tags == nil {
		k.Tags = map[string]string{}
	}
	return k
}

func tagsJSON(m map[string]string) string {
	if m == nil {
		return "{}"
	}
	return mustJSON(m)
}

func keyNotFound(id string) error { return fmt.Errorf("pgstore: key %s: %w", id, store.ErrNotFound) }

// lockKey locks the key's row for the rest of tx.
func lockKey(ctx context.Context, tx pgx.Tx, id string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM kms_keys WHERE id = $1 FOR UPDATE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return keyNotFound(id)
	}
	return err
}

func insertMaterial(ctx context.Context, tx pgx.Tx, keyID string, m store.Material) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO kms_materials (key_id, version, created_at, rotation_type, material_id, sealed)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		keyID, m.Version, m.CreatedAt, m.RotationType, m.MaterialID, nonNil(m.Sealed))
	return tag.RowsAffected() == 1, err
}

// ---- keys ----

func (s *Store) CreateKey(ctx context.Context, k store.Key, m *store.Material) (store.Key, error) {
	k.Revision, k.CurrentVersion = 1, 0
	if m != nil {
		if m.Version < 1 {
			return store.Key{}, fmt.Errorf("pgstore: key %s: material version %d", k.ID, m.Version)
		}
		k.CurrentVersion = m.Version
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO kms_keys (`+keyCols+`, due_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
			ON CONFLICT DO NOTHING`,
			k.ID, k.ARN, k.Account, k.Region, k.Description, k.KeyState, k.KeyManager, k.KeySpec, k.KeyUsage,
			k.Origin, k.CreatedAt, nullTime(k.DeletionDate), k.PendingWindowDays, k.RotationEnabled,
			k.RotationPeriodDays, nullTime(k.NextRotation), k.Policy, tagsJSON(k.Tags), k.MultiRegion,
			k.CurrentVersion, k.Revision, k.MAC, keyDue(k))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("pgstore: key %s: %w", k.ID, store.ErrExists)
		}
		if m != nil {
			if _, err := insertMaterial(ctx, tx, k.ID, *m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Key{}, err
	}
	return truncKey(k), nil
}

func (s *Store) GetKey(ctx context.Context, id string) (store.Key, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyCols+` FROM kms_keys WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Key{}, keyNotFound(id)
	}
	if err != nil {
		return store.Key{}, fmt.Errorf("pgstore: key %s: %w", id, err)
	}
	return k, nil
}

// updateKey runs fn (then more, in the same transaction) on the locked row
// and writes the result.
func (s *Store) updateKey(ctx context.Context, id string, fn func(*store.Key) error,
	more func(pgx.Tx, *store.Key) error) (store.Key, error) {
	var out store.Key
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		old, err := scanKey(tx.QueryRow(ctx, `SELECT `+keyCols+` FROM kms_keys WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return keyNotFound(id)
		}
		if err != nil {
			return err
		}
		k := old
		k.Tags = make(map[string]string, len(old.Tags))
		for tk, tv := range old.Tags {
			k.Tags[tk] = tv
		}
		if fn != nil {
			if err := fn(&k); err != nil {
				return fnError{err}
			}
		}
		k.ID, k.ARN, k.Account, k.Region = old.ID, old.ARN, old.Account, old.Region
		k.CurrentVersion, k.Revision = old.CurrentVersion, old.Revision+1
		if more != nil {
			if err := more(tx, &k); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE kms_keys SET description = $2, key_state = $3, key_manager = $4,
			key_spec = $5, key_usage = $6, origin = $7, created_at = $8, deletion_date = $9,
			pending_window_days = $10, rotation_enabled = $11, rotation_period_days = $12, next_rotation = $13,
			key_policy = $14, tags = $15, multi_region = $16, current_version = $17, revision = $18, mac = $19,
			due_at = $20 WHERE id = $1`,
			id, k.Description, k.KeyState, k.KeyManager, k.KeySpec, k.KeyUsage, k.Origin, k.CreatedAt,
			nullTime(k.DeletionDate), k.PendingWindowDays, k.RotationEnabled, k.RotationPeriodDays,
			nullTime(k.NextRotation), k.Policy, tagsJSON(k.Tags), k.MultiRegion, k.CurrentVersion, k.Revision,
			k.MAC, keyDue(k)); err != nil {
			return err
		}
		out = truncKey(k)
		return nil
	})
	if err != nil {
		return store.Key{}, unwrapFn(err)
	}
	return out, nil
}

func (s *Store) UpdateKey(ctx context.Context, id string, fn func(*store.Key) error) (store.Key, error) {
	return s.updateKey(ctx, id, fn, nil)
}

func (s *Store) ListKeys(ctx context.Context, account, region string, p store.Page) ([]store.Key, string, error) {
	limit := pageLimit(p)
	rows, err := s.pool.Query(ctx, `SELECT `+keyCols+` FROM kms_keys
		WHERE account = $1 AND region = $2 AND id > $3 ORDER BY id LIMIT $4`, account, region, p.After, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list keys: %w", err)
	}
	ks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Key, error) { return scanKey(r) })
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list keys: %w", err)
	}
	if len(ks) > limit {
		return ks[:limit], ks[limit-1].ID, nil
	}
	return ks, "", nil
}

func (s *Store) DeleteKey(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM kms_keys WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return keyNotFound(id)
		}
		for _, q := range []string{
			`DELETE FROM kms_materials WHERE key_id = $1`,
			`DELETE FROM kms_aliases WHERE key_id = $1`,
			`DELETE FROM kms_grants WHERE key_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) KeysDue(ctx context.Context, now time.Time, max int) ([]store.Key, error) {
	if max <= 0 {
		max = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+keyCols+` FROM kms_keys
		WHERE due_at <= $1 ORDER BY due_at, id LIMIT $2`, now, max)
	if err != nil {
		return nil, fmt.Errorf("pgstore: keys due: %w", err)
	}
	ks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Key, error) { return scanKey(r) })
	if err != nil {
		return nil, fmt.Errorf("pgstore: keys due: %w", err)
	}
	return ks, nil
}

// ---- material ----

func (s *Store) AddMaterial(ctx context.Context, keyID string, m store.Material, fn func(*store.Key) error) (store.Key, error) {
	return s.updateKey(ctx, keyID, fn, func(tx pgx.Tx, k *store.Key) error {
		if m.Version != k.CurrentVersion+1 {
			return fmt.Errorf("pgstore: key %s: material version %d, current %d: %w",
				keyID, m.Version, k.CurrentVersion, store.ErrExists)
		}
		ok, err := insertMaterial(ctx, tx, keyID, m)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("pgstore: key %s: material version %d: %w", keyID, m.Version, store.ErrExists)
		}
		k.CurrentVersion = m.Version
		return nil
	})
}

func (s *Store) GetMaterial(ctx context.Context, keyID string, version int) (store.Material, error) {
	m := store.Material{Version: version}
	err := s.pool.QueryRow(ctx, `SELECT created_at, rotation_type, material_id, sealed FROM kms_materials
		WHERE key_id = $1 AND version = $2`, keyID, version).Scan(&m.CreatedAt, &m.RotationType, &m.MaterialID, &m.Sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Material{}, fmt.Errorf("pgstore: key %s material %d: %w", keyID, version, store.ErrNotFound)
	}
	if err != nil {
		return store.Material{}, fmt.Errorf("pgstore: key %s material %d: %w", keyID, version, err)
	}
	m.CreatedAt = utc(m.CreatedAt)
	return m, nil
}

func (s *Store) ListMaterials(ctx context.Context, keyID string, p store.Page) ([]store.Material, string, error) {
	after := 0
	if p.After != "" {
		v, err := strconv.Atoi(p.After)
		if err != nil || v < 0 {
			return nil, "", fmt.Errorf("pgstore: bad cursor %q", p.After)
		}
		after = v
	}
	limit := pageLimit(p)
	rows, err := s.pool.Query(ctx, `SELECT version, created_at, rotation_type, material_id FROM kms_materials
		WHERE key_id = $1 AND version > $2 ORDER BY version LIMIT $3`, keyID, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list materials: %w", err)
	}
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Material, error) {
		var m store.Material
		err := r.Scan(&m.Version, &m.CreatedAt, &m.RotationType, &m.MaterialID)
		m.CreatedAt = utc(m.CreatedAt)
		return m, err
	})
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list materials: %w", err)
	}
	if len(ms) == 0 {
		if _, err := s.GetKey(ctx, keyID); err != nil {
			return nil, "", err
		}
	}
	if len(ms) > limit {
		return ms[:limit], strconv.Itoa(ms[limit-1].Version), nil
	}
	return ms, "", nil
}

// ---- aliases ----

const aliasCols = `account, region, name, key_id, created_at, updated_at`

func scanAlias(row pgx.Row) (store.Alias, error) {
	var a store.Alias
	if err := row.Scan(&a.Account, &a.Region, &a.Name, &a.KeyID, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return store.Alias{}, err
	}
	a.CreatedAt, a.UpdatedAt = utc(a.CreatedAt), utc(a.UpdatedAt)
	return a, nil
}

func aliasNotFound(name string) error {
	return fmt.Errorf("pgstore: alias %s: %w", name, store.ErrNotFound)
}

func (s *Store) CreateAlias(ctx context.Context, a store.Alias) (store.Alias, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockKey(ctx, tx, a.KeyID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO kms_aliases (`+aliasCols+`) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING`, a.Account, a.Region, a.Name, a.KeyID, a.CreatedAt, a.UpdatedAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("pgstore: alias %s: %w", a.Name, store.ErrExists)
		}
		return nil
	})
	if err != nil {
		return store.Alias{}, err
	}
	a.CreatedAt = utc(a.CreatedAt.Truncate(dbPrecision))
	a.UpdatedAt = utc(a.UpdatedAt.Truncate(dbPrecision))
	return a, nil
}

func (s *Store) GetAlias(ctx context.Context, account, region, name string) (store.Alias, error) {
	a, err := scanAlias(s.pool.QueryRow(ctx, `SELECT `+aliasCols+` FROM kms_aliases
		WHERE account = $1 AND region = $2 AND name = $3`, account, region, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Alias{}, aliasNotFound(name)
	}
	if err != nil {
		return store.Alias{}, fmt.Errorf("pgstore: alias %s: %w", name, err)
	}
	return a, nil
}

func (s *Store) UpdateAlias(ctx context.Context, account, region, name, keyID string, at time.Time) (store.Alias, error) {
	var out store.Alias
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockKey(ctx, tx, keyID); err != nil {
			return err
		}
		a, err := scanAlias(tx.QueryRow(ctx, `UPDATE kms_aliases SET key_id = $4, updated_at = $5
			WHERE account = $1 AND region = $2 AND name = $3 RETURNING `+aliasCols, account, region, name, keyID, at))
		if errors.Is(err, pgx.ErrNoRows) {
			return aliasNotFound(name)
		}
		out = a
		return err
	})
	if err != nil {
		return store.Alias{}, err
	}
	return out, nil
}

func (s *Store) DeleteAlias(ctx context.Context, account, region, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM kms_aliases WHERE account = $1 AND region = $2 AND name = $3`,
		account, region, name)
	if err != nil {
		return fmt.Errorf("pgstore: delete alias %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return aliasNotFound(name)
	}
	return nil
}

func (s *Store) ListAliases(ctx context.Context, account, region, keyID string, p store.Page) ([]store.Alias, string, error) {
	limit := pageLimit(p)
	rows, err := s.pool.Query(ctx, `SELECT `+aliasCols+` FROM kms_aliases
		WHERE account = $1 AND region = $2 AND name > $3 AND ($4 = '' OR key_id = $4) ORDER BY name LIMIT $5`,
		account, region, p.After, keyID, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list aliases: %w", err)
	}
	as, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Alias, error) { return scanAlias(r) })
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list aliases: %w", err)
	}
	if len(as) > limit {
		return as[:limit], as[limit-1].Name, nil
	}
	return as, "", nil
}

// ---- grants ----

const grantCols = `id, key_id, grantee_principal, retiring_principal, operations, grant_constraints, name,
	created_at, issuing_account, mac`

func scanGrant(row pgx.Row) (store.Grant, error) {
	var g store.Grant
	var ops string
	if err := row.Scan(&g.ID, &g.KeyID, &g.GranteePrincipal, &g.RetiringPrincipal, &ops, &g.Constraints, &g.Name,
		&g.CreatedAt, &g.IssuingAccount, &g.MAC); err != nil {
		return store.Grant{}, err
	}
	if err := json.Unmarshal([]byte(ops), &g.Operations); err != nil {
		return store.Grant{}, fmt.Errorf("pgstore: corrupt JSON column: %w", err)
	}
	g.CreatedAt = utc(g.CreatedAt)
	return g, nil
}

func (s *Store) CreateGrant(ctx context.Context, g store.Grant) (store.Grant, error) {
	ops := g.Operations
	if ops == nil {
		ops = []string{}
	}
	opsJSON, err := json.Marshal(ops)
	if err != nil {
		return store.Grant{}, err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockKey(ctx, tx, g.KeyID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO kms_grants (`+grantCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT DO NOTHING`, g.ID, g.KeyID, g.GranteePrincipal, g.RetiringPrincipal, string(opsJSON),
			g.Constraints, g.Name, g.CreatedAt, g.IssuingAccount, g.MAC)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("pgstore: grant %s: %w", g.ID, store.ErrExists)
		}
		return nil
	})
	if err != nil {
		return store.Grant{}, err
	}
	g.CreatedAt = utc(g.CreatedAt.Truncate(dbPrecision))
	return g, nil
}

func (s *Store) GetGrant(ctx context.Context, id string) (store.Grant, error) {
	g, err := scanGrant(s.pool.QueryRow(ctx, `SELECT `+grantCols+` FROM kms_grants WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Grant{}, fmt.Errorf("pgstore: grant %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Grant{}, fmt.Errorf("pgstore: grant %s: %w", id, err)
	}
	return g, nil
}

func (s *Store) listGrants(ctx context.Context, col, val string, p store.Page) ([]store.Grant, string, error) {
	limit := pageLimit(p)
	rows, err := s.pool.Query(ctx, `SELECT `+grantCols+` FROM kms_grants
		WHERE `+col+` = $1 AND id > $2 ORDER BY id LIMIT $3`, val, p.After, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list grants: %w", err)
	}
	gs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Grant, error) { return scanGrant(r) })
	if err != nil {
		return nil, "", fmt.Errorf("pgstore: list grants: %w", err)
	}
	if len(gs) > limit {
		return gs[:limit], gs[limit-1].ID, nil
	}
	return gs, "", nil
}

func (s *Store) ListGrants(ctx context.Context, keyID string, p store.Page) ([]store.Grant, string, error) {
	return s.listGrants(ctx, "key_id", keyID, p)
}

func (s *Store) ListRetirableGrants(ctx context.Context, principal string, p store.Page) ([]store.Grant, string, error) {
	if principal == "" {
		return nil, "", nil
	}
	return s.listGrants(ctx, "retiring_principal", principal, p)
}

func (s *Store) DeleteGrant(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM kms_grants WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("pgstore: delete grant %s: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pgstore: grant %s: %w", id, store.ErrNotFound)
	}
	return nil
}

var _ store.KeyStore = (*Store)(nil)
