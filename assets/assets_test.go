package assets

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func decodePNG(t *testing.T, name string, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: decode PNG: %v", name, err)
	}
	return img
}

func TestTrayIconsDecode(t *testing.T) {
	t.Parallel()
	for _, goos := range []string{"linux", "freebsd", "darwin", "windows"} {
		for _, k := range []Kind{Idle, Active, Trouble} {
			name := fmt.Sprintf("Icon(%v, %q)", k, goos)
			b := Icon(k, goos)
			switch goos {
			case "windows":
				entries := parseICO(t, name, b)
				if len(entries) < 3 {
					t.Errorf("%s: got %d images, want at least 16, 24 and 32 px", name, len(entries))
				}
				for _, want := range []int{16, 24, 32} {
					if _, ok := entries[want]; !ok {
						t.Errorf("%s: no %dpx image", name, want)
					}
				}
			case "darwin":
				img := decodePNG(t, name, b)
				if got := img.Bounds().Dx(); got != 44 || img.Bounds().Dy() != 44 {
					t.Errorf("%s: size %v, want 44x44", name, img.Bounds())
				}
				for y := 0; y < 44; y++ {
					for x := 0; x < 44; x++ {
						if r, g, bl, _ := img.At(x, y).RGBA(); r|g|bl != 0 {
							t.Fatalf("%s: pixel (%d,%d) is not black; a template image is black plus alpha", name, x, y)
						}
					}
				}
			default:
				img := decodePNG(t, name, b)
				if img.Bounds().Dx() != 64 || img.Bounds().Dy() != 64 {
					t.Errorf("%s: size %v, want 64x64", name, img.Bounds())
				}
			}
		}
	}
}

func TestStatesDiffer(t *testing.T) {
	t.Parallel()
	for _, goos := range []string{"linux", "darwin", "windows"} {
		seen := map[string]Kind{}
		for _, k := range []Kind{Idle, Active, Trouble} {
			key := string(Icon(k, goos))
			if prev, dup := seen[key]; dup {
				t.Errorf("%s: %v and %v have the same icon", goos, prev, k)
			}
			seen[key] = k
		}
	}
}

func TestUnknownKindIsTrouble(t *testing.T) {
	t.Parallel()
	if !bytes.Equal(Icon(Kind(42), "linux"), Icon(Trouble, "linux")) {
		t.Error("Icon(Kind(42)) is not the Trouble icon")
	}
	if got := Kind(42).String(); got != "Kind(42)" {
		t.Errorf("Kind(42).String() = %q", got)
	}
}

func TestAppIcon(t *testing.T) {
	t.Parallel()
	for _, size := range AppIconSizes() {
		img := decodePNG(t, fmt.Sprint("AppIcon(", size, ")"), AppIcon(size))
		if img.Bounds().Dx() != size || img.Bounds().Dy() != size {
			t.Errorf("AppIcon(%d): size %v", size, img.Bounds())
		}
	}
	for _, tc := range []struct{ ask, want int }{{0, 16}, {20, 24}, {22, 24}, {40, 48}, {100, 128}, {1024, 512}} {
		img := decodePNG(t, "AppIcon", AppIcon(tc.ask))
		if got := img.Bounds().Dx(); got != tc.want {
			t.Errorf("AppIcon(%d): got %dpx, want %dpx", tc.ask, got, tc.want)
		}
	}
}

func TestAppIconICO(t *testing.T) {
	t.Parallel()
	entries := parseICO(t, "AppIconICO", AppIconICO())
	for _, want := range []int{16, 32, 48, 256} {
		if _, ok := entries[want]; !ok {
			t.Errorf("AppIconICO: no %dpx image", want)
		}
	}
}

func TestAppIconICNS(t *testing.T) {
	t.Parallel()
	b := AppIconICNS()
	if len(b) < 8 || string(b[:4]) != "icns" || int(binary.BigEndian.Uint32(b[4:8])) != len(b) {
		t.Fatalf("AppIconICNS: bad header %q", b[:min(8, len(b))])
	}
	sizes := map[string]int{"icp4": 16, "icp5": 32, "icp6": 64, "ic07": 128, "ic08": 256, "ic09": 512,
		"ic10": 1024, "ic11": 32, "ic12": 64, "ic13": 256, "ic14": 512}
	found := 0
	for off := 8; off < len(b); {
		if off+8 > len(b) {
			t.Fatalf("AppIconICNS: truncated entry at %d", off)
		}
		code, n := string(b[off:off+4]), int(binary.BigEndian.Uint32(b[off+4:off+8]))
		if n < 8 || off+n > len(b) {
			t.Fatalf("AppIconICNS: entry %q at %d has bad length %d", code, off, n)
		}
		img := decodePNG(t, "AppIconICNS "+code, b[off+8:off+n])
		if want, ok := sizes[code]; !ok || img.Bounds().Dx() != want {
			t.Errorf("AppIconICNS: entry %q is %v, want %dpx", code, img.Bounds(), want)
		}
		found++
		off += n
	}
	if found != len(sizes) {
		t.Errorf("AppIconICNS: %d entries, want %d", found, len(sizes))
	}
}

func TestAppIconSVG(t *testing.T) {
	t.Parallel()
	var doc struct {
		XMLName xml.Name
		ViewBox string `xml:"viewBox,attr"`
	}
	if err := xml.Unmarshal(AppIconSVG(), &doc); err != nil {
		t.Fatalf("AppIconSVG: %v", err)
	}
	if doc.XMLName.Local != "svg" || doc.ViewBox != "0 0 512 512" {
		t.Errorf("AppIconSVG: root %q viewBox %q, want svg with viewBox 0 0 512 512", doc.XMLName.Local, doc.ViewBox)
	}
}

// parseICO checks an ICO file's directory and decodes every image (PNG or
// 32-bit BMP), returning them by width.
func parseICO(t *testing.T, name string, b []byte) map[int]image.Rectangle {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 6 || le.Uint16(b[0:]) != 0 || le.Uint16(b[2:]) != 1 {
		t.Fatalf("%s: not an ICO header", name)
	}
	n := int(le.Uint16(b[4:]))
	out := map[int]image.Rectangle{}
	for i := 0; i < n; i++ {
		d := b[6+16*i:]
		w := int(d[0])
		if w == 0 {
			w = 256
		}
		size, off := int(le.Uint32(d[8:])), int(le.Uint32(d[12:]))
		if off+size > len(b) {
			t.Fatalf("%s: image %d runs past the end", name, i)
		}
		data := b[off : off+size]
		if bytes.HasPrefix(data, []byte("\x89PNG")) {
			img := decodePNG(t, name, data)
			if img.Bounds().Dx() != w {
				t.Errorf("%s: image %d is %v, directory says %d", name, i, img.Bounds(), w)
			}
		} else {
			// BITMAPINFOHEADER: width, double height, 32 bpp, then pixels and an AND mask.
			bw, bh, bpp := int(int32(le.Uint32(data[4:]))), int(int32(le.Uint32(data[8:]))), le.Uint16(data[14:])
			mask := ((w + 31) / 32) * 4 * w
			if le.Uint32(data) != 40 || bw != w || bh != 2*w || bpp != 32 || len(data) != 40+w*w*4+mask {
				t.Errorf("%s: image %d: bad bitmap (w %d h %d bpp %d len %d), directory says %d", name, i, bw, bh, bpp, len(data), w)
			}
		}
		out[w] = image.Rect(0, 0, w, w)
	}
	return out
}

// TestGeneratedUpToDate redraws the icons and compares them with the
// committed ones, so a change to gen/main.go cannot be forgotten.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("redrawing the icons takes a few seconds")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found; cannot run the generator")
	}
	dir := t.TempDir()
	cmd := exec.Command(goBin, "run", "gen/main.go", "-out", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run gen/main.go: %v\n%s", err, out)
	}
	gen, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range gen {
		want, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		got, err := files.ReadFile("icons/" + e.Name())
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("icons/%s differs from what gen/main.go draws: run go generate ./assets and commit", e.Name())
		}
	}
}
