package tunnel

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// authVector is one (secret, challenge, answer) triple.
type authVector struct {
	secret    string
	challenge uuid.UUID
	answer    string
}

// loadAuthVectors reads the fixed vectors of testdata/auth-vectors.txt.
func loadAuthVectors(t *testing.T) []authVector {
	t.Helper()
	f, err := os.Open("testdata/auth-vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []authVector
	var cur authVector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "secret='"):
			cur = authVector{secret: strings.TrimSuffix(strings.TrimPrefix(line, "secret='"), "'")}
		case strings.HasPrefix(line, "challenge="):
			cur.challenge = uuid.MustParse(strings.TrimPrefix(line, "challenge="))
		case strings.HasPrefix(line, "answer="):
			cur.answer = strings.TrimPrefix(line, "answer=")
			out = append(out, cur)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 {
		t.Fatalf("testdata/auth-vectors.txt: %d vectors, want 3", len(out))
	}
	return out
}

// capturedPairs are the Challenge/Authenticate pairs the real bore client
// sent, with the secret it used ("" when the answer is bad on purpose).
// They are read from the scenario captures.
func capturedPairs(t *testing.T) []authVector {
	t.Helper()
	challengeRe := regexp.MustCompile(`"Challenge":"([0-9a-f-]{36})"`)
	answerRe := regexp.MustCompile(`"Authenticate":"([^"]*)"`)
	var out []authVector
	for _, name := range []string{"b-secret", "c-wrong-secret", "e2-accept-unknown-uuid-with-secret", "f2-server-probes-secret"} {
		sc := loadScenario(t, name)
		for _, c := range sc.Connections {
			ch := challengeRe.FindStringSubmatch(c.s2cString(t))
			an := answerRe.FindStringSubmatch(c.c2sString(t))
			if ch == nil || an == nil {
				continue
			}
			secret := "bore-test-secret"
			if name == "c-wrong-secret" {
				secret = "wrong-secret"
			}
			out = append(out, authVector{secret: secret, challenge: uuid.MustParse(ch[1]), answer: an[1]})
		}
	}
	return out
}

// TestAuthVectors checks the fixed (secret, challenge, answer) vectors.
func TestAuthVectors(t *testing.T) {
	t.Parallel()
	for _, v := range loadAuthVectors(t) {
		a := newAuthenticator(v.secret)
		if got := a.answer(v.challenge); got != v.answer {
			t.Errorf("answer(%q, %s) = %s, want %s", v.secret, v.challenge, got, v.answer)
		}
		if !a.validate(v.challenge, v.answer) {
			t.Errorf("validate(%q, %s) refused %s", v.secret, v.challenge, v.answer)
		}
	}
}

// TestAuthCapturedPairs checks every answer the real bore client computed:
// the 7 valid ones match ours, the 2 bad probes are refused.
func TestAuthCapturedPairs(t *testing.T) {
	t.Parallel()
	valid, invalid := 0, 0
	for _, p := range capturedPairs(t) {
		a := newAuthenticator(p.secret)
		ok := a.validate(p.challenge, p.answer)
		if ok {
			valid++
			if got := a.answer(p.challenge); got != strings.ToLower(p.answer) {
				t.Errorf("answer(%q, %s) = %s, bore sent %s", p.secret, p.challenge, got, p.answer)
			}
		} else {
			invalid++
		}
	}
	// b (2), c (1), e2 (1), f2 uppercase (1); f2 "not hex" and truncated
	// are the two bad ones.
	if valid != 5 || invalid != 2 {
		t.Errorf("%d captured answers valid and %d invalid, want 5 and 2", valid, invalid)
	}
}

// TestAuthValidate checks which answers the server accepts: either case of
// the full MAC, nothing shorter, longer or not hex.
func TestAuthValidate(t *testing.T) {
	t.Parallel()
	a := newAuthenticator("bore-test-secret")
	ch := uuid.MustParse("6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9")
	good := "602e975b3a2c830c4c4b780647fc1408e0c0dc51b6da21db1da62af06032e727"
	accept := []string{good, strings.ToUpper(good), good[:10] + strings.ToUpper(good[10:])}
	for _, s := range accept {
		if !a.validate(ch, s) {
			t.Errorf("validate refused %q", s)
		}
	}
	flip := []byte(good)
	flip[63] = '6'
	reject := []string{
		"", "00", "not hex", good[:32], good[:62], good[:63], good + "0", good + "00",
		string(flip), " " + good, good + " ", "0x" + good[2:], good[:20] + "zz" + good[22:],
		strings.Repeat("0", 64),
	}
	for _, s := range reject {
		if a.validate(ch, s) {
			t.Errorf("validate accepted %q", s)
		}
	}
	if newAuthenticator("other").validate(ch, good) {
		t.Error("validate accepted an answer made with another secret")
	}
	if a.validate(uuid.MustParse("6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0fa"), good) {
		t.Error("validate accepted an answer to another challenge")
	}
	// The secret is used as given: no trimming.
	if newAuthenticator("bore-test-secret ").answer(ch) == good {
		t.Error("a trailing space in the secret made no difference")
	}
}
