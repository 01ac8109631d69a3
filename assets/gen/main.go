//go:build ignore

// Command gen draws Bore's icons with the standard image packages and writes
// them into assets/icons: the tray icons per state (PNG, macOS template PNG,
// Windows ICO), the application icon as PNGs from 16 to 512 pixels, a
// multi-size ICO and a macOS ICNS. The SVG app icon beside them is
// hand-written and mirrors the same drawing.
//
// Run it with "go generate ./assets" (or "go run gen/main.go" inside assets).
// Its output is committed, so building Bore never needs it; a test checks
// that the committed files match what this program draws.
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

// shape reports whether the point (x, y), in unit coordinates where the icon
// spans [0,1]x[0,1] with y pointing down, lies inside.
type shape func(x, y float64) bool

// paint gives the colour of a layer at a point.
type paint func(x, y float64) color.NRGBA

// layer is one filled shape; layers are painted in order, later over earlier.
type layer struct {
	in  shape
	col paint
}

func solid(c color.NRGBA) paint { return func(_, _ float64) color.NRGBA { return c } }

// vertical blends from top to bottom colour across the icon's height.
func vertical(top, bottom color.NRGBA) paint {
	return func(_, y float64) color.NRGBA {
		mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a) + (float64(b)-float64(a))*y)) }
		return color.NRGBA{mix(top.R, bottom.R), mix(top.G, bottom.G), mix(top.B, bottom.B), mix(top.A, bottom.A)}
	}
}

func circle(cx, cy, r float64) shape {
	return func(x, y float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }
}

// roundRect is the rectangle [x0,x1]x[y0,y1] with corners rounded by r.
func roundRect(x0, y0, x1, y1, r float64) shape {
	return func(x, y float64) bool {
		if x < x0 || x > x1 || y < y0 || y > y1 {
			return false
		}
		cx := math.Max(x0+r, math.Min(x, x1-r))
		cy := math.Max(y0+r, math.Min(y, y1-r))
		return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
	}
}

// arch is a tunnel portal: a rectangle from x0 to x1 and down to bottom,
// topped by a half circle whose top is at y = top.
func arch(x0, x1, top, bottom float64) shape {
	r := (x1 - x0) / 2
	cx, cy := x0+r, top+r
	return func(x, y float64) bool {
		if y > bottom || x < x0 || x > x1 {
			return false
		}
		if y >= cy {
			return true
		}
		return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
	}
}

func minus(a, b shape) shape { return func(x, y float64) bool { return a(x, y) && !b(x, y) } }

func union(s ...shape) shape {
	return func(x, y float64) bool {
		for _, f := range s {
			if f(x, y) {
				return true
			}
		}
		return false
	}
}

// render rasterises layers at size x size pixels with n x n samples per
// pixel for anti-aliasing.
func render(size int, layers []layer) *image.NRGBA {
	const n = 4
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			var r, g, b, a float64 // premultiplied sums
			for sy := 0; sy < n; sy++ {
				for sx := 0; sx < n; sx++ {
					x := (float64(px) + (float64(sx)+0.5)/n) / float64(size)
					y := (float64(py) + (float64(sy)+0.5)/n) / float64(size)
					var cr, cg, cb, ca float64
					for _, l := range layers {
						if !l.in(x, y) {
							continue
						}
						c := l.col(x, y)
						la := float64(c.A) / 255
						cr = float64(c.R)*la + cr*(1-la)
						cg = float64(c.G)*la + cg*(1-la)
						cb = float64(c.B)*la + cb*(1-la)
						ca = la + ca*(1-la)
					}
					r, g, b, a = r+cr, g+cg, b+cb, a+ca
				}
			}
			const samples = n * n
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(math.Round(r / a)),
				G: uint8(math.Round(g / a)),
				B: uint8(math.Round(b / a)),
				A: uint8(math.Round(a / samples * 255)),
			})
		}
	}
	return img
}

// Tray glyph geometry: a tunnel portal standing on the ground. The opening
// holds nothing when idle, a light ("the light at the end of the tunnel")
// when tunnels are open, and an exclamation mark when in trouble, so the
// states differ by shape as well as by colour (and in the monochrome macOS
// template).
var (
	portal  = minus(arch(0.10, 0.90, 0.06, 0.84), arch(0.28, 0.72, 0.24, 0.84))
	ground  = roundRect(0.02, 0.82, 0.98, 0.95, 0.05)
	light   = circle(0.5, 0.62, 0.135)
	exclaim = union(roundRect(0.445, 0.33, 0.555, 0.62, 0.055), circle(0.5, 0.73, 0.065))
)

// kinds names the tray states in the order of assets.Kind.
var kinds = []string{"idle", "active", "trouble"}

// trayLayers draws the tray glyph for state kind in colour c.
func trayLayers(kind string, c color.NRGBA) []layer {
	ls := []layer{{portal, solid(c)}, {ground, solid(c)}}
	switch kind {
	case "active":
		ls = append(ls, layer{light, solid(c)})
	case "trouble":
		ls = append(ls, layer{exclaim, solid(c)})
	}
	return ls
}

// trayColours are mid-tone so the glyph reads on light and dark panels.
var trayColours = map[string]color.NRGBA{
	"idle":    {0x86, 0x8e, 0x96, 0xff}, // grey: nothing shared
	"active":  {0x2f, 0xb3, 0x44, 0xff}, // green: tunnels open
	"trouble": {0xf0, 0x8c, 0x00, 0xff}, // orange: reconnecting or failed
}

// appLayers draws the application icon: a white portal on a blue tile with
// a warm light inside.
func appLayers() []layer {
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	return []layer{
		{roundRect(0.04, 0.04, 0.96, 0.96, 0.2), vertical(color.NRGBA{0x4d, 0xab, 0xf7, 0xff}, color.NRGBA{0x17, 0x5e, 0xa8, 0xff})},
		{arch(0.26, 0.74, 0.24, 0.76), solid(color.NRGBA{0x0b, 0x2e, 0x55, 0xff})},
		{circle(0.5, 0.6, 0.11), solid(color.NRGBA{0xff, 0xd4, 0x3b, 0xff})},
		{minus(arch(0.2, 0.8, 0.18, 0.76), arch(0.3, 0.7, 0.28, 0.76)), solid(white)},
		{roundRect(0.13, 0.74, 0.87, 0.82, 0.04), solid(white)},
	}
}

func encodePNG(img image.Image) []byte {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		log.Fatalf("encode png: %v", err)
	}
	return buf.Bytes()
}

// encodeICO writes a Windows icon holding each image. Images under 256
// pixels are stored as 32-bit BMP (every Windows version and NSIS read
// those); a 256-pixel image is stored as PNG, as Windows Vista and later
// expect.
func encodeICO(imgs []*image.NRGBA) []byte {
	var dir, data bytes.Buffer
	le := binary.LittleEndian
	binary.Write(&dir, le, [3]uint16{0, 1, uint16(len(imgs))})
	offset := 6 + 16*len(imgs)
	for _, img := range imgs {
		size := img.Bounds().Dx()
		var entry []byte
		if size >= 256 {
			entry = encodePNG(img)
		} else {
			entry = encodeDIB(img)
		}
		dim := uint8(size)
		if size >= 256 {
			dim = 0 // 0 means 256 in the directory
		}
		binary.Write(&dir, le, struct {
			W, H, Colours, Reserved uint8
			Planes, BitCount        uint16
			Bytes, Offset           uint32
		}{dim, dim, 0, 0, 1, 32, uint32(len(entry)), uint32(offset)})
		data.Write(entry)
		offset += len(entry)
	}
	return append(dir.Bytes(), data.Bytes()...)
}

// encodeDIB writes img as an ICO-style bitmap: a BITMAPINFOHEADER with twice
// the height, bottom-up BGRA rows, then a 1-bit AND mask padded to 32 bits.
func encodeDIB(img *image.NRGBA) []byte {
	size := img.Bounds().Dx()
	var buf bytes.Buffer
	le := binary.LittleEndian
	maskStride := ((size + 31) / 32) * 4
	binary.Write(&buf, le, struct {
		Size          uint32
		Width, Height int32
		Planes, Bits  uint16
		Compression   uint32
		ImageSize     uint32
		XPels, YPels  int32
		Used, Import  uint32
	}{40, int32(size), int32(2 * size), 1, 32, 0, uint32(size*size*4 + maskStride*size), 0, 0, 0, 0})
	for y := size - 1; y >= 0; y-- {
		for x := 0; x < size; x++ {
			c := img.NRGBAAt(x, y)
			buf.Write([]byte{c.B, c.G, c.R, c.A})
		}
	}
	for y := size - 1; y >= 0; y-- {
		row := make([]byte, maskStride)
		for x := 0; x < size; x++ {
			if img.NRGBAAt(x, y).A == 0 {
				row[x/8] |= 0x80 >> (x % 8)
			}
		}
		buf.Write(row)
	}
	return buf.Bytes()
}

// encodeICNS writes a macOS icon family of PNG entries keyed by their
// OSType (see Apple's IconFamily.h: ic07 is 128px, ic08 256, ic09 512,
// ic10 1024, and ic11 to ic14 the @2x variants of 16 to 256).
func encodeICNS(pngs map[int][]byte) []byte {
	types := []struct {
		code string
		size int
	}{
		{"icp4", 16}, {"icp5", 32}, {"icp6", 64}, {"ic07", 128}, {"ic08", 256},
		{"ic09", 512}, {"ic10", 1024}, {"ic11", 32}, {"ic12", 64}, {"ic13", 256}, {"ic14", 512},
	}
	var body bytes.Buffer
	for _, t := range types {
		p := pngs[t.size]
		body.WriteString(t.code)
		binary.Write(&body, binary.BigEndian, uint32(8+len(p)))
		body.Write(p)
	}
	var out bytes.Buffer
	out.WriteString("icns")
	binary.Write(&out, binary.BigEndian, uint32(8+body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

// template turns an image black, keeping its alpha, as macOS menu-bar
// template images must be.
func template(img *image.NRGBA) *image.NRGBA {
	out := image.NewNRGBA(img.Bounds())
	for i := 3; i < len(img.Pix); i += 4 {
		out.Pix[i] = img.Pix[i]
	}
	return out
}

func main() {
	out := flag.String("out", "icons", "directory to write the icons into")
	flag.Parse()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(*out, name), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}

	// Tray: 64px PNG for Linux (StatusNotifierItem hosts scale it down),
	// 44px template for macOS (22pt at @2x), ICO for Windows with the sizes
	// its notification area asks for at 100% to 200% scaling (16 to 32) and 48.
	for _, k := range kinds {
		c := trayColours[k]
		write("tray-"+k+".png", encodePNG(render(64, trayLayers(k, c))))
		write("tray-"+k+"-template.png", encodePNG(template(render(44, trayLayers(k, c)))))
		var imgs []*image.NRGBA
		for _, s := range []int{16, 20, 24, 32, 48} {
			imgs = append(imgs, render(s, trayLayers(k, c)))
		}
		write("tray-"+k+".ico", encodeICO(imgs))
	}

	// Application icon.
	app := map[int][]byte{}
	var icoImgs []*image.NRGBA
	for _, s := range []int{16, 24, 32, 48, 64, 128, 256, 512, 1024} {
		img := render(s, appLayers())
		app[s] = encodePNG(img)
		if s <= 256 && s != 128 {
			icoImgs = append(icoImgs, img)
		}
		if s <= 512 {
			write(fmt.Sprintf("app-%d.png", s), app[s])
		}
	}
	write("bore.ico", encodeICO(icoImgs))
	write("bore.icns", encodeICNS(app))
}
