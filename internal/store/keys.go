package store

import (
	"context"
	"time"
)

// Key is a KMS key (CMK) record. Times that are unset are the zero Time.
type Key struct {
	ID          string // UUID; the record's identity, unique across accounts
	ARN         string
	Account     string
	Region      string
	Description string
	KeyState    string // Enabled, Disabled, PendingDeletion, ... as the KMS API writes them
	KeyManager  string // CUSTOMER or AWS
	KeySpec     string
	KeyUsage    string
	Origin      string
	CreatedAt   time.Time
	// DeletionDate is when a key pending deletion is deleted.
	DeletionDate      time.Time
	PendingWindowDays int
	RotationEnabled   bool
	// RotationPeriodDays is the automatic rotation period; NextRotation is
	// when the next automatic rotation is due.
	RotationPeriodDays int
	NextRotation       time.Time
	Policy             string // key policy document (JSON)
	Tags               map[string]string
	MultiRegion        bool
	// CurrentVersion is the material version used to encrypt (0 = none yet).
	// Only CreateKey and AddMaterial set it.
	CurrentVersion int
	// Revision counts the record's writes; the store sets it.
	Revision int64
	// MAC is an opaque integrity tag computed by the domain, stored as given.
	MAC []byte
}

// Material is one version of a key's material.
type Material struct {
	Version      int // 1, 2, ...
	CreatedAt    time.Time
	RotationType string // "" for the first version, AUTOMATIC or ON_DEMAND
	MaterialID   string // KeyMaterialId (hex), as ListKeyRotations shows it
	// Sealed is the material sealed by the domain. ListMaterials leaves it
	// nil; GetMaterial fills it.
	Sealed []byte
}

// Alias is a KMS alias. Names are unique per account and region and are
// stored as the API writes them ("alias/...").
type Alias struct {
	Account   string
	Region    string
	Name      string
	KeyID     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Grant is a KMS grant on a key.
type Grant struct {
	ID                string // unique across keys
	KeyID             string
	GranteePrincipal  string
	RetiringPrincipal string // "" when none
	Operations        []string
	Constraints       string // JSON as the domain encodes it; "" when none
	Name              string
	CreatedAt         time.Time
	IssuingAccount    string
	// MAC is an opaque integrity tag computed by the domain, stored as given.
	MAC []byte
}

// KeyStore is the storage interface of the KMS domain: keys, their material
// versions, aliases and grants. It is separate from Store (the store grows by
// domain); drivers that serve KMS implement both.
//
// The key store is untrusted like the rest of the store: key material
// arrives sealed by the domain (AES-256-GCM under a key derived from the root
// key, AAD binding key id and version) and is stored as opaque bytes. Record
// fields (state, policy, grants) are stored in clear; the domain may put an
// integrity tag over them in the MAC fields, which drivers store as given.
//
// Contract, in addition to the package's:
//   - Errors: ErrNotFound for missing keys, materials, aliases and grants
//     (and for an alias or grant whose key is missing); ErrExists for a
//     second key, alias or grant with the same identity, and for AddMaterial
//     with a version that is not the key's next one.
//   - Every write is atomic and durable (synced) before it returns.
//   - Lists are ordered by their records' identity (key id, alias name,
//     grant id, material version); the returned cursor is "" on the last
//     page. Page.Limit <= 0 means 100.
//   - Revision: CreateKey stores a key with Revision 1 and every UpdateKey
//     or AddMaterial adds one, so a node that caches a key can tell with a
//     GetKey whether it changed (on any node sharing the database).
//   - Times are stored with at least microsecond precision.
//   - Identities (key ids, account, region, alias names, grant ids,
//     principals) never contain NUL: the embedded driver separates key
//     parts with it. The KMS API's patterns exclude it; the domain checks.
type KeyStore interface {
	// CreateKey stores k with its first material version m (when m is not
	// nil; k.CurrentVersion is then m.Version, else 0) in one atomic write.
	// A key with k.ID already existing gives ErrExists.
	CreateKey(ctx context.Context, k Key, m *Material) (Key, error)
	GetKey(ctx context.Context, id string) (Key, error)
	// UpdateKey applies fn to the current record atomically
	// (read-modify-write) and adds one to its Revision. An error from fn
	// aborts the update and is returned as is. fn may run more than once
	// (retried conflicts) and must only change the record it is given; its
	// changes to ID, ARN, Account, Region, CurrentVersion and Revision are
	// ignored.
	UpdateKey(ctx context.Context, id string, fn func(*Key) error) (Key, error)
	// ListKeys lists the keys of an account in a region, ordered by ID.
	ListKeys(ctx context.Context, account, region string, p Page) ([]Key, string, error)
	// DeleteKey deletes the key with every material version, every alias
	// that points to it and every grant on it, atomically.
	DeleteKey(ctx context.Context, id string) error
	// KeysDue returns up to max keys whose DeletionDate or NextRotation is
	// set and at or before now, earliest first. The caller must delete the
	// key or move or clear those dates, or it is returned again.
	KeysDue(ctx context.Context, now time.Time, max int) ([]Key, error)

	// AddMaterial stores material version m of the key and makes it
	// current, atomically: m.Version must be CurrentVersion+1 (else
	// ErrExists: a concurrent rotation won). fn, when not nil, updates the
	// record in the same write (for example NextRotation), as in UpdateKey.
	AddMaterial(ctx context.Context, keyID string, m Material, fn func(*Key) error) (Key, error)
	// GetMaterial returns one material version with its sealed bytes.
	GetMaterial(ctx context.Context, keyID string, version int) (Material, error)
	// ListMaterials lists a key's material versions without their sealed
	// bytes, oldest first. The cursor is a version number.
	ListMaterials(ctx context.Context, keyID string, p Page) ([]Material, string, error)

	// CreateAlias stores a unless an alias with its name exists in its
	// account and region (ErrExists). The target key must exist
	// (ErrNotFound); a key deleted concurrently takes the alias with it.
	CreateAlias(ctx context.Context, a Alias) (Alias, error)
	GetAlias(ctx context.Context, account, region, name string) (Alias, error)
	// UpdateAlias points an existing alias to keyID (which must exist) and
	// sets UpdatedAt to at.
	UpdateAlias(ctx context.Context, account, region, name, keyID string, at time.Time) (Alias, error)
	DeleteAlias(ctx context.Context, account, region, name string) error
	// ListAliases lists the aliases of an account in a region by name; with
	// keyID set, only those that point to that key.
	ListAliases(ctx context.Context, account, region, keyID string, p Page) ([]Alias, string, error)

	// CreateGrant stores g unless a grant with g.ID exists (ErrExists). The
	// key must exist (ErrNotFound).
	CreateGrant(ctx context.Context, g Grant) (Grant, error)
	GetGrant(ctx context.Context, id string) (Grant, error)
	// ListGrants lists a key's grants by ID.
	ListGrants(ctx context.Context, keyID string, p Page) ([]Grant, string, error)
	// ListRetirableGrants lists the grants, on any key, whose
	// RetiringPrincipal is principal, by ID.
	ListRetirableGrants(ctx context.Context, principal string, p Page) ([]Grant, string, error)
	// DeleteGrant deletes a grant (RetireGrant, RevokeGrant).
	DeleteGrant(ctx context.Context, id string) error
}
