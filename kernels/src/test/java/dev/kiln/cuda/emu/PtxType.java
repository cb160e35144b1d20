package dev.kiln.cuda.emu;

import java.util.Map;

/** A PTX fundamental type: its width in bytes and how its bits read as a number. */
enum PtxType {
    PRED(1, 'p'), B8(1, 'b'), B16(2, 'b'), B32(4, 'b'), B64(8, 'b'),
    U8(1, 'u'), U16(2, 'u'), U32(4, 'u'), U64(8, 'u'),
    S8(1, 's'), S16(2, 's'), S32(4, 's'), S64(8, 's'),
    F16(2, 'f'), F32(4, 'f'), F64(8, 'f');

    final int bytes;
    final char kind;

    PtxType(int bytes, char kind) { this.bytes = bytes; this.kind = kind; }

    private static final Map<String, PtxType> BY_NAME = Map.ofEntries(
            Map.entry("pred", PRED), Map.entry("b8", B8), Map.entry("b16", B16), Map.entry("b32", B32), Map.entry("b64", B64),
            Map.entry("u8", U8), Map.entry("u16", U16), Map.entry("u32", U32), Map.entry("u64", U64),
            Map.entry("s8", S8), Map.entry("s16", S16), Map.entry("s32", S32), Map.entry("s64", S64),
            Map.entry("f16", F16), Map.entry("f32", F32), Map.entry("f64", F64));

    static PtxType named(String s) { return BY_NAME.get(s); }

    boolean signed() { return kind == 's'; }
    boolean isFloat() { return kind == 'f'; }
    int bits() { return bytes * 8; }

    long mask() { return bytes == 8 ? -1L : (1L << (bytes * 8)) - 1; }

    /** The register bits as a Java long: sign-extended for .s types, zero-extended otherwise. */
    long extend(long v) {
        return switch (this) {
            case S8 -> (byte) v;
            case S16 -> (short) v;
            case S32 -> (int) v;
            case S64, U64, B64, F64 -> v;
            default -> v & mask();
        };
    }
}
