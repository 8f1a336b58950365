package identity

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefault(t *testing.T) {
	d := Default()
	p, secret, ok := d.Lookup("test")
	if !ok || secret != "test" || p.Account != DefaultAccount || p.ARN != "arn:aws:iam::000000000000:root" {
		t.Fatalf("%+v %q %v", p, secret, ok)
	}
	if _, _, ok := d.Lookup("nobody"); ok {
		t.Fatal("unknown key found")
	}
	if d.Anonymous().Account != DefaultAccount {
		t.Fatal("anonymous account")
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds.json")
	os.WriteFile(path, []byte(`{"accounts":[{"id":"111122223333","users":[
		{"name":"root","accessKeys":[{"id":"AKROOT","secret":"s1"}]},
		{"name":"alice","accessKeys":[{"id":"AKALICE","secret":"s2"}]}]},
		{"id":"444455556666","users":[{"name":"bob","accessKeys":[{"id":"AKBOB","secret":"s3"}]}]}]}`), 0o600)
	d, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, s, ok := d.Lookup("AKALICE"); !ok || s != "s2" || p.ARN != "arn:aws:iam::111122223333:user/alice" {
		t.Fatalf("alice %+v", p)
	}
	if p, _, _ := d.Lookup("AKROOT"); p.ARN != "arn:aws:iam::111122223333:root" {
		t.Fatalf("root %+v", p)
	}
	if p, _, _ := d.Lookup("AKBOB"); p.Account != "444455556666" {
		t.Fatalf("bob %+v", p)
	}
	if d.Anonymous().Account != "111122223333" {
		t.Fatal("default account is the first one")
	}
	for _, bad := range []string{`{`, `{"accounts":[]}`, `{"accounts":[{"id":"12"}]}`,
		`{"accounts":[{"id":"111122223333","users":[{"accessKeys":[{"id":"a","secret":""}]}]}]}`,
		`{"accounts":[{"id":"111122223333","users":[{"accessKeys":[{"id":"a","secret":"x"},{"id":"a","secret":"y"}]}]}]}`} {
		os.WriteFile(path, []byte(bad), 0o600)
		if _, err := Load(path); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file accepted")
	}
}
