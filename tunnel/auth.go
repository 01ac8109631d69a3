package tunnel

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"

	"github.com/google/uuid"
)

// authenticator answers and checks bore's challenges: the key is
// SHA-256(secret), the answer is the hex HMAC-SHA256 of the challenge
// UUID's 16 bytes.
type authenticator struct {
	key [sha256.Size]byte
}

func newAuthenticator(secret string) *authenticator {
	return &authenticator{key: sha256.Sum256([]byte(secret))}
}

func (a *authenticator) mac(challenge uuid.UUID) []byte {
	h := hmac.New(sha256.New, a.key[:])
	h.Write(challenge[:])
	return h.Sum(nil)
}

// answer returns the lowercase hex answer to challenge.
func (a *authenticator) answer(challenge uuid.UUID) string {
	return hex.EncodeToString(a.mac(challenge))
}

// validate reports whether answer is right for challenge. Hex of either
// case is accepted; anything that is not exactly 32 bytes of hex fails. The
// comparison takes the same time wherever the answer differs.
func (a *authenticator) validate(challenge uuid.UUID, answer string) bool {
	got, err := hex.DecodeString(answer)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	return hmac.Equal(got, a.mac(challenge))
}
