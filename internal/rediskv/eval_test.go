package rediskv

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cledar/storekit/backends/redisconf"
)

// A scriptServer is a Client, and a ConditionalClient, that records the
// commands it is given and answers scripts as a server that knows those of
// known: EVALSHA of another one gets NOSCRIPT, EVAL loads it.
type scriptServer struct {
	Client // nil: only Do and Script are called
	known  map[string]bool
	calls  []string
}

func (c *scriptServer) run(name, sha string, args []string) Reply {
	c.calls = append(c.calls, fmt.Sprintf("%s %s", name, strings.Join(args, ",")))
	if !c.known[sha] {
		return Reply{Err: errors.New("NOSCRIPT No matching script. Please use EVAL.")}
	}
	return Reply{Int: 1, Kind: KindInt}
}

func (c *scriptServer) Do(_ context.Context, cmd Cmd) Reply {
	sha := cmd.Pre[0]
	if cmd.Name == "EVAL" {
		sha = newScript(cmd.Pre[0]).sha
		c.known[sha] = true
	}
	return c.run("Do "+cmd.Name, sha, cmd.Args)
}

func (c *scriptServer) Script(_ context.Context, sha, _ string, args [MaxScriptArgs]string, n int) Reply {
	return c.run("Script", sha, args[:n])
}

func (c *scriptServer) SetNX(context.Context, string, []byte, int64) Reply {
	panic("not called")
}

// TestEval checks how eval sends a script: through Script when the client
// is a ConditionalClient and the arguments fit, with Do otherwise, and
// with EVAL once after NOSCRIPT either way.
func TestEval(t *testing.T) {
	sc := newScript("return 1")
	three := []string{"a", "b", "c"}
	four := []string{"a", "b", "c", "d"}
	for _, tt := range []struct {
		name        string
		conditional bool
		known       bool
		args        []string
		want        []string
	}{
		{"Script", true, true, three, []string{"Script a,b,c"}},
		{"ScriptThenEval", true, false, three, []string{"Script a,b,c", "Do EVAL a,b,c"}},
		{"TooManyForScript", true, true, four, []string{"Do EVALSHA a,b,c,d"}},
		{"TooManyThenEval", true, false, four, []string{"Do EVALSHA a,b,c,d", "Do EVAL a,b,c,d"}},
		{"NoArgs", true, true, nil, []string{"Script "}},
		{"Client", false, true, three, []string{"Do EVALSHA a,b,c"}},
		{"ClientThenEval", false, false, three, []string{"Do EVALSHA a,b,c", "Do EVAL a,b,c"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := &scriptServer{known: map[string]bool{}}
			if tt.known {
				srv.known[sc.sha] = true
			}
			var c Client = srv
			if !tt.conditional {
				c = struct{ Client }{srv} // Client's methods alone
			}
			s := New(c, "test", redisconf.Options{}, Hooks{})
			if r := s.eval(context.Background(), sc, "k", tt.args...); r.Err != nil || r.Int != 1 {
				t.Errorf("eval = %+v, want 1", r)
			}
			if !slices.Equal(srv.calls, tt.want) {
				t.Errorf("commands %q, want %q", srv.calls, tt.want)
			}
		})
	}
}
