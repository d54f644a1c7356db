package export

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/gomlx/gomlx/ml/model"
)

// The weights of a PyTorch export are a safetensors file (the format of Hugging Face's safetensors
// library): an 8-byte little-endian header length, a JSON header naming each tensor's type, shape and
// byte range, then the tensors' bytes. PyTorch users read it with `safetensors.torch.load_file`, and the
// generated code reads it with torch alone (its load_safetensors function), so that it needs nothing but
// torch. The format is small enough to write directly: a header and raw little-endian numbers.

// writeSafetensors writes the plan's state dict with the values in store, with the metadata as the
// header's __metadata__.
func (p *plan) writeSafetensors(w io.Writer, store *model.Store, metadata map[string]string) error {
	type entry struct {
		DType   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	keys := make([]string, 0, len(p.tensors))
	for _, t := range p.tensors {
		keys = append(keys, t.key)
	}
	sort.Strings(keys) // the library writes them sorted too
	header := map[string]any{"__metadata__": metadata}
	var offset int64
	for _, k := range keys {
		t := p.tensors[p.byKey[k]]
		e := entry{DType: "F32", Shape: t.shape}
		size := int64(product(t.shape)) * 4
		if t.how == batchesTracked {
			e.DType, size = "I64", 8
		}
		e.Offsets = [2]int64{offset, offset + size}
		offset += size
		header[k] = e
	}
	raw, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(raw)%8 != 0 { // the data starts 8-byte aligned, as the library writes it
		raw = append(raw, ' ')
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(raw)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	for _, k := range keys {
		t := p.tensors[p.byKey[k]]
		var buf []byte
		if t.how == batchesTracked {
			buf = make([]byte, 8) // int64 0: GoMLX does not count batches; eval mode does not read it
		} else {
			values, err := p.values(store, t)
			if err != nil {
				return fmt.Errorf("%s: %w", t.key, err)
			}
			buf = make([]byte, 4*len(values))
			for i, v := range values {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
			}
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}
