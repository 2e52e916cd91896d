package netpol

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func observed(b bool) *bool { return &b }

// tableCells has every mark, pairs left out (a pod to itself, and more), a cell given twice,
// an empty protocol (TCP) and a second grid with fewer rows and columns.
func tableCells(names ...string) []Cell {
	a, b, c := names[0], names[1], names[2]
	return []Cell{
		{From: a, To: b, Port: 80, Protocol: "", Expected: true, Observed: observed(true)},
		{From: a, To: c, Port: 80, Protocol: corev1.ProtocolTCP, Expected: false, Observed: observed(false)},
		{From: b, To: a, Port: 80, Protocol: corev1.ProtocolTCP, Expected: false, Observed: observed(true)},
		{From: b, To: c, Port: 80, Protocol: corev1.ProtocolTCP, Expected: true, Observed: observed(false)},
		{From: c, To: a, Port: 80, Protocol: corev1.ProtocolTCP, Expected: true, Observed: nil},
		{From: a, To: c, Port: 53, Protocol: corev1.ProtocolUDP, Expected: true, Observed: observed(true)},
		{From: c, To: a, Port: 53, Protocol: corev1.ProtocolUDP, Expected: false, Observed: observed(false)},
		{From: a, To: b, Port: 80, Protocol: corev1.ProtocolTCP, Expected: true, Observed: observed(true)}, // again: the later wins
	}
}

func TestRenderTableShort(t *testing.T) {
	got := RenderTable(tableCells("a/x", "a/y", "b/z"))
	want := `80/TCP a/x a/y b/z
a/x        .   x
a/y    A       B
b/z    ?

53/UDP a/x b/z
a/x        .
b/z    x

legend: . allowed as expected, x blocked as expected, A allowed but the model says blocked, B blocked but the model says allowed, ? not observed
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestRenderTableLong: names longer than a column label are numbered, the same number in every
// grid, with the numbers explained once.
func TestRenderTableLong(t *testing.T) {
	cells := tableCells("default/client", "host/node-1", "other/server")
	for i := range 12 {
		cells = append(cells, Cell{From: "default/client", To: fmt.Sprintf("ns/p%d", i), Port: 80, Expected: i%2 == 0, Observed: observed(i%3 == 0)})
	}
	got := RenderTable(cells)
	want := `80/TCP         1  2  3  4  5  6  7  8  9  10 11 12 13 14 15
default/client    .  x  .  x  B  A  B  x  .  x  B  A  B  x
host/node-1    A     B
other/server   ?

53/UDP         1  3
default/client    .
other/server   x

columns: 1 default/client, 2 host/node-1, 3 other/server, 4 ns/p0, 5 ns/p1, 6 ns/p2, 7 ns/p3, 8 ns/p4, 9 ns/p5, 10 ns/p6, 11 ns/p7, 12 ns/p8, 13 ns/p9, 14 ns/p10, 15 ns/p11
legend: . allowed as expected, x blocked as expected, A allowed but the model says blocked, B blocked but the model says allowed, ? not observed
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := RenderTable(nil); got != legend+"\n" {
		t.Errorf("no cells: %q", got)
	}
}

func TestMismatches(t *testing.T) {
	wrong, unobserved := Mismatches(tableCells("a", "b", "c"))
	if wrong != 2 || unobserved != 1 {
		t.Errorf("Mismatches = %d, %d; want 2, 1", wrong, unobserved)
	}
	if wrong, unobserved := Mismatches(nil); wrong != 0 || unobserved != 0 {
		t.Errorf("Mismatches(nil) = %d, %d", wrong, unobserved)
	}
}
