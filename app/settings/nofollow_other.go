//go:build !unix

package settings

// oNoFollow is 0 where open(2) has no O_NOFOLLOW; Load checks for links
// with Lstat first.
const oNoFollow = 0
