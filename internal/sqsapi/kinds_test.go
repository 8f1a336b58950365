package sqsapi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryKindMapped: every error kind the sqs package declares
// (Err... = errors.New(...)) has a row in the wire table, so that no
// domain error falls through to InternalError.
func TestEveryKindMapped(t *testing.T) {
	mapped := map[string]bool{}
	for k := range kinds {
		mapped[k.Error()] = true
	}
	files, _ := filepath.Glob("../sqs/*.go")
	fset := token.NewFileSet()
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.VAR {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "Err") || i >= len(vs.Values) {
						continue
					}
					call, ok := vs.Values[i].(*ast.CallExpr)
					if !ok || len(call.Args) != 1 {
						continue
					}
					if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "New" {
						continue
					}
					lit, ok := call.Args[0].(*ast.BasicLit)
					if !ok {
						continue
					}
					n++
					if kind := strings.Trim(lit.Value, `"`); !mapped[kind] {
						t.Errorf("sqs.%s (%s) has no wire mapping", id.Name, kind)
					}
				}
			}
		}
	}
	if n < len(kinds) {
		t.Fatalf("found %d kinds in ../sqs, the table has %d", n, len(kinds))
	}
}
