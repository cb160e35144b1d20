package dev.kiln.cuda.emu;

import dev.kiln.cuda.emu.PtxKernel.Exec;
import dev.kiln.cuda.emu.PtxKernel.Mods;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static dev.kiln.cuda.emu.PtxKernel.M32;

/**
 * The emulator's instruction semantics, after the PTX ISA. Floating point: {@code .rn} results are
 * exact because float operations are done in double and rounded once (double has more than
 * 2·24+2 bits, so double rounding cannot change a +, -, ×, ÷ or √ of floats); fma is Math.fma.
 * The {@code .approx} functions (ex2, lg2, rcp, rsqrt, sin, cos, div.approx) return the correctly
 * rounded value, which is within the hardware's stated error (2 ulp or less), so tests of kernels
 * using them need that tolerance. Directed roundings (.rz/.rm/.rp) are emulated on f32 fma, add, sub and mul (exactly, in BigDecimal)
 * and refused elsewhere.
 */
final class PtxOps {
    private PtxOps() {}

    static Exec compile(PtxKernel k, String op, Mods m, List<String> ops) {
        return switch (op) {
            case "ld" -> load(k, m, ops);
            case "st" -> store(k, m, ops);
            case "mov" -> mov(k, m, ops);
            case "cvta" -> cvta(k, m, ops);
            case "cvt" -> cvt(k, m, ops);
            case "setp" -> setp(k, m, ops);
            case "selp" -> {
                PtxType t = m.type(); m.done();
                int d = k.regSlot(ops.get(0)), a = k.srcSlot(ops.get(1), t), b = k.srcSlot(ops.get(2), t), p = k.srcSlot(ops.get(3), PtxType.PRED);
                yield x -> x.r[d] = x.r[p] != 0 ? x.r[a] : x.r[b];
            }
            case "bfi" -> {   // bit-field insert: b with bits [pos, pos + len) replaced by the low len bits of a
                PtxType t = m.type(); m.done();
                int d = k.regSlot(ops.get(0)), a = k.srcSlot(ops.get(1), t), b = k.srcSlot(ops.get(2), t);
                int pos = k.srcSlot(ops.get(3), PtxType.U32), len = k.srcSlot(ops.get(4), PtxType.U32);
                int bits = t.bits();
                yield x -> {
                    int p = (int) (x.r[pos] & 0xff), l = (int) (x.r[len] & 0xff);
                    long field = l >= 64 ? -1L : (1L << l) - 1, mask = p >= bits ? 0 : (field << p) & t.mask();
                    x.r[d] = ((x.r[b] & ~mask) | ((x.r[a] << Math.min(p, 63)) & mask)) & t.mask();
                };
            }
            case "atom", "red" -> atom(k, op, m, ops);
            case "add", "sub", "mul", "mad", "fma", "div", "rem", "min", "max", "neg", "abs", "sqrt", "rsqrt", "rcp",
                 "ex2", "lg2", "sin", "cos", "tanh", "copysign", "and", "or", "xor", "not", "cnot", "shl", "shr",
                 "popc", "clz", "brev", "testp" -> arith(k, op, m, ops);
            default -> throw new UnsupportedOperationException("instruction " + m.opcode + " is not emulated");
        };
    }

    // ---- memory

    private static final int PARAM = 0, GLOBAL = 1, SHARED = 2, GENERIC = 3;

    private static int space(Mods m) {
        String s = m.takeOne("param", "global", "shared", "local", "const");
        m.take("nc");
        m.take("ca"); m.take("cg"); m.take("cs"); m.take("lu"); m.take("cv"); m.take("wb"); m.take("wt");
        if (s == null) return GENERIC;
        return switch (s) {
            case "param" -> PARAM;
            case "global" -> GLOBAL;
            case "shared" -> SHARED;
            default -> throw new UnsupportedOperationException("." + s + " memory is not emulated");
        };
    }

    private static int vectorWidth(Mods m) {
        String v = m.takeOne("v2", "v4");
        return v == null ? 1 : v.equals("v2") ? 2 : 4;
    }

    static long read(Lane t, int space, long addr, int width) {
        Lane.Block b = t.block;
        return switch (space) {
            case PARAM -> DeviceMemory.read(checked(b.params(), addr, width, "parameter", t), addr, width);
            case GLOBAL -> b.global().load(addr, width);
            case SHARED -> DeviceMemory.read(checked(b.shared(), addr & M32, width, "shared", t), addr & M32, width);
            default -> {
                long s = addr - DeviceMemory.SHARED_WINDOW;
                yield s >= 0 && s < DeviceMemory.WINDOW_SIZE ? read(t, SHARED, s, width) : b.global().load(addr, width);
            }
        };
    }

    static void write(Lane t, int space, long addr, int width, long v) {
        Lane.Block b = t.block;
        switch (space) {
            case GLOBAL -> b.global().store(addr, width, v);
            case SHARED -> DeviceMemory.write(checked(b.shared(), addr & M32, width, "shared", t), addr & M32, width, v);
            case GENERIC -> {
                long s = addr - DeviceMemory.SHARED_WINDOW;
                if (s >= 0 && s < DeviceMemory.WINDOW_SIZE) write(t, SHARED, s, width, v);
                else b.global().store(addr, width, v);
            }
            default -> throw new IllegalStateException("store to parameter space");
        }
    }

    private static MemorySegment checked(MemorySegment seg, long off, int width, String what, Lane t) {
        if (off < 0 || off + width > seg.byteSize()) throw new IllegalStateException("PTX emulator, kernel " + t.block.kernel().name
                + ": " + what + " access of " + width + " bytes at offset " + off + " is outside its " + seg.byteSize() + " bytes");
        if ((off & (width - 1)) != 0) throw new IllegalStateException("PTX emulator, kernel " + t.block.kernel().name
                + ": misaligned " + what + " access of " + width + " bytes at offset " + off);
        return seg;
    }

    private static Exec load(PtxKernel k, Mods m, List<String> ops) {
        int space = space(m);
        int vec = vectorWidth(m);
        PtxType t = m.type();
        m.done();
        long[] a = k.addressOf(ops.get(1));
        int base = (int) a[0];
        long off = a[1];
        int w = t.bytes;
        if (vec == 1) {
            int d = k.regSlot(ops.get(0));
            return x -> x.r[d] = t.extend(read(x, space, x.r[base] + off, w));
        }
        List<String> dst = PtxKernel.vectorOf(ops.get(0));
        int[] ds = new int[vec];
        for (int i = 0; i < vec; i++) ds[i] = k.regSlot(dst.get(i));
        return x -> {
            long addr = x.r[base] + off;
            for (int i = 0; i < ds.length; i++) x.r[ds[i]] = t.extend(read(x, space, addr + (long) i * w, w));
        };
    }

    // A load lands sign- or zero-extended to 64 bits: ld.global.s32 may target a .b64 register, and
    // every 32-bit consumer reads only the low half.

    private static Exec store(PtxKernel k, Mods m, List<String> ops) {
        int space = space(m);
        int vec = vectorWidth(m);
        PtxType t = m.type();
        m.done();
        long[] a = k.addressOf(ops.get(0));
        int base = (int) a[0];
        long off = a[1];
        int w = t.bytes;
        if (vec == 1) {
            int s = k.srcSlot(ops.get(1), t);
            return x -> write(x, space, x.r[base] + off, w, x.r[s]);
        }
        List<String> src = PtxKernel.vectorOf(ops.get(1));
        int[] ss = new int[vec];
        for (int i = 0; i < vec; i++) ss[i] = k.srcSlot(src.get(i), t);
        return x -> {
            long addr = x.r[base] + off;
            for (int i = 0; i < ss.length; i++) write(x, space, addr + (long) i * w, w, x.r[ss[i]]);
        };
    }

    private static Exec atom(PtxKernel k, String op, Mods m, List<String> ops) {
        int space = space(m);
        m.take("relaxed"); m.take("gpu"); m.take("sys"); m.take("cta");
        String fn = m.takeOne("add", "min", "max", "exch", "cas", "and", "or", "xor", "inc", "dec");
        PtxType t = m.type();
        m.done();
        boolean red = op.equals("red");
        int d = red ? -1 : k.regSlot(ops.get(0));
        long[] a = k.addressOf(ops.get(red ? 0 : 1));
        int base = (int) a[0];
        long off = a[1];
        int b = k.srcSlot(ops.get(red ? 1 : 2), t);
        int c = fn.equals("cas") ? k.srcSlot(ops.get(3), t) : -1;
        int w = t.bytes;
        return x -> {
            long addr = x.r[base] + off;
            long old = read(x, space, addr, w);
            long v = x.r[b];
            long nv = switch (fn) {
                case "add" -> t == PtxType.F32 ? f32(f(old) + f(v)) : t == PtxType.F64 ? f64(d(old) + d(v)) : old + v;
                case "min" -> t.signed() ? Math.min(t.extend(old), t.extend(v)) : (Long.compareUnsigned(old, v) < 0 ? old : v);
                case "max" -> t.signed() ? Math.max(t.extend(old), t.extend(v)) : (Long.compareUnsigned(old, v) > 0 ? old : v);
                case "exch" -> v;
                case "cas" -> old == (v & t.mask()) ? x.r[c] : old;
                case "and" -> old & v;
                case "or" -> old | v;
                case "xor" -> old ^ v;
                case "inc" -> Long.compareUnsigned(old, v) >= 0 ? 0 : old + 1;
                default -> (old == 0 || Long.compareUnsigned(old, v) > 0) ? v : old - 1;
            };
            write(x, space, addr, w, nv & t.mask());
            if (d >= 0) x.r[d] = old;
        };
    }

    // ---- moves and conversions

    private static Exec mov(PtxKernel k, Mods m, List<String> ops) {
        PtxType t = m.type();
        m.done();
        String dst = ops.get(0), src = ops.get(1);
        if (src.startsWith("{")) {   // pack: mov.b64 %rd, {%r1, %r2} (low part first)
            List<String> parts = PtxKernel.vectorOf(src);
            int d = k.regSlot(dst);
            int[] ss = new int[parts.size()];
            for (int i = 0; i < ss.length; i++) ss[i] = k.srcSlot(parts.get(i), PtxType.B32);
            int w = t.bits() / ss.length;
            long mask = (1L << w) - 1;
            return x -> {
                long v = 0;
                for (int i = 0; i < ss.length; i++) v |= (x.r[ss[i]] & mask) << (i * w);
                x.r[d] = v;
            };
        }
        if (dst.startsWith("{")) {   // unpack: mov.b64 {%r1, %r2}, %rd
            List<String> parts = PtxKernel.vectorOf(dst);
            int s = k.srcSlot(src, t);
            int[] ds = new int[parts.size()];
            for (int i = 0; i < ds.length; i++) ds[i] = parts.get(i).equals("_") ? -1 : k.regSlot(parts.get(i));
            int w = t.bits() / ds.length;
            long mask = (1L << w) - 1;
            return x -> {
                long v = x.r[s];
                for (int i = 0; i < ds.length; i++) if (ds[i] >= 0) x.r[ds[i]] = (v >>> (i * w)) & mask;
            };
        }
        int d = k.regSlot(dst), s = k.srcSlot(src, t);
        long mask = t == PtxType.PRED ? 1 : t.mask();
        return x -> x.r[d] = x.r[s] & mask;
    }

    private static Exec cvta(PtxKernel k, Mods m, List<String> ops) {
        boolean to = m.take("to");
        String space = m.takeOne("global", "shared", "param", "local", "const");
        PtxType t = m.type();
        m.done();
        int d = k.regSlot(ops.get(0)), s = k.srcSlot(ops.get(1), t);
        if ("global".equals(space)) return x -> x.r[d] = x.r[s];
        if ("shared".equals(space)) {
            long w = DeviceMemory.SHARED_WINDOW;
            return to ? x -> x.r[d] = (x.r[s] - w) & t.mask() : x -> x.r[d] = x.r[s] + w;
        }
        throw new UnsupportedOperationException("cvta to/from ." + space + " space");
    }

    private static Exec cvt(PtxKernel k, Mods m, List<String> ops) {
        String rnd = m.takeOne("rn", "rz", "rm", "rp", "rni", "rzi", "rmi", "rpi");
        boolean ftz = m.take("ftz");
        boolean sat = m.take("sat");
        PtxType dt = m.type(), st = m.type();
        m.done();
        int d = k.regSlot(ops.get(0)), s = k.srcSlot(ops.get(1), st);
        if (dt == PtxType.F16 || st == PtxType.F16) throw new UnsupportedOperationException("half-precision conversions");
        if (!dt.isFloat() && !st.isFloat()) {
            if (sat) throw new UnsupportedOperationException("cvt.sat between integers");
            return x -> x.r[d] = st.extend(x.r[s]) & dt.mask();
        }
        if (dt.isFloat() && st.isFloat()) {
            if (dt == st && rnd == null && sat) {   // cvt.sat.f32.f32: clamp to [0, 1]
                boolean single = dt == PtxType.F32;
                return x -> x.r[d] = single ? f32(fin(ftzIn(f(x.r[s]), ftz), ftz, true)) : f64(sat(d(x.r[s])));
            }
            if (dt == st) {   // round to an integral value
                if (rnd == null || rnd.length() != 3) throw new UnsupportedOperationException(m.opcode + ": float-to-same-float needs .rni/.rzi/.rmi/.rpi");
                boolean single = dt == PtxType.F32;
                return x -> {
                    double v = single ? ftzIn(f(x.r[s]), ftz) : d(x.r[s]);
                    double r = roundInt(v, rnd);
                    x.r[d] = single ? f32(fin((float) r, ftz, sat)) : f64(sat ? sat(r) : r);
                };
            }
            if (dt == PtxType.F64) return x -> x.r[d] = f64(ftzIn(f(x.r[s]), ftz));
            if (rnd != null && !rnd.equals("rn")) throw new UnsupportedOperationException(m.opcode + ": directed rounding f64 -> f32");
            return x -> x.r[d] = f32(fin((float) d(x.r[s]), ftz, sat));
        }
        if (dt.isFloat()) {   // integer -> float
            if (rnd != null && !rnd.equals("rn")) throw new UnsupportedOperationException(m.opcode + ": directed rounding int -> float");
            boolean u64 = st == PtxType.U64;
            return dt == PtxType.F32
                    ? x -> x.r[d] = f32(u64 ? unsignedToFloat(x.r[s]) : (float) st.extend(x.r[s]))
                    : x -> x.r[d] = f64(u64 ? unsignedToDouble(x.r[s]) : (double) st.extend(x.r[s]));
        }
        // float -> integer: round as named, then saturate to the destination's range; NaN gives 0.
        if (rnd == null || rnd.length() != 3) throw new UnsupportedOperationException(m.opcode + ": float-to-int needs .rni/.rzi/.rmi/.rpi");
        boolean single = st == PtxType.F32;
        return x -> {
            double v = single ? ftzIn(f(x.r[s]), ftz) : d(x.r[s]);
            x.r[d] = toInt(roundInt(v, rnd), dt) & dt.mask();
        };
    }

    static double roundInt(double v, String rnd) {
        return switch (rnd) {
            case "rni" -> Math.rint(v);
            case "rzi" -> v < 0 ? Math.ceil(v) : Math.floor(v);
            case "rmi" -> Math.floor(v);
            default -> Math.ceil(v);
        };
    }

    static long toInt(double v, PtxType t) {
        if (Double.isNaN(v)) return 0;
        return switch (t) {
            case S64 -> (long) v;
            case U64 -> v <= 0 ? 0 : v >= 0x1p64 ? -1L : v >= 0x1p63 ? (long) (v - 0x1p63) ^ Long.MIN_VALUE : (long) v;
            default -> {
                double lo = t.signed() ? -Math.pow(2, t.bits() - 1) : 0;
                double hi = t.signed() ? Math.pow(2, t.bits() - 1) - 1 : Math.pow(2, t.bits()) - 1;
                yield (long) Math.max(lo, Math.min(hi, v));
            }
        };
    }

    private static float unsignedToFloat(long v) {
        if (v >= 0) return (float) v;
        return (float) ((v >>> 1) | (v & 1)) * 2f;   // keeps the sticky bit so the one rounding is right
    }

    private static double unsignedToDouble(long v) {
        if (v >= 0) return (double) v;
        return (double) ((v >>> 1) | (v & 1)) * 2d;
    }

    // ---- comparisons

    private static Exec setp(PtxKernel k, Mods m, List<String> ops) {
        String cmp = m.takeOne("eq", "ne", "lt", "le", "gt", "ge", "lo", "ls", "hi", "hs",
                "equ", "neu", "ltu", "leu", "gtu", "geu", "num", "nan");
        String bool = m.takeOne("and", "or", "xor");
        boolean ftz = m.take("ftz");
        PtxType t = m.type();
        m.done();
        String[] dp = ops.get(0).split("\\|");
        int p = k.regSlot(dp[0]);
        int q = dp.length > 1 ? k.regSlot(dp[1]) : -1;
        int a = k.srcSlot(ops.get(1), t), b = k.srcSlot(ops.get(2), t);
        int c = bool != null ? k.srcSlot(ops.get(3), PtxType.PRED) : -1;
        Cmp test = t.isFloat() ? floatCmp(cmp, t, ftz) : intCmp(cmp, t);
        return x -> {
            boolean r = test.test(x.r[a], x.r[b]);
            boolean nr = !r;
            if (c >= 0) {
                boolean cv = x.r[c] != 0;
                switch (bool) {
                    case "and" -> { r = r && cv; nr = nr && cv; }
                    case "or" -> { r = r || cv; nr = nr || cv; }
                    default -> { r = r ^ cv; nr = nr ^ cv; }
                }
            }
            x.r[p] = r ? 1 : 0;
            if (q >= 0) x.r[q] = nr ? 1 : 0;
        };
    }

    interface Cmp { boolean test(long a, long b); }

    private static Cmp intCmp(String cmp, PtxType t) {
        boolean unsigned = !t.signed();
        return switch (cmp) {
            case "eq" -> (a, b) -> t.extend(a) == t.extend(b);
            case "ne" -> (a, b) -> t.extend(a) != t.extend(b);
            case "lt", "lo" -> unsigned ? (a, b) -> Long.compareUnsigned(t.extend(a), t.extend(b)) < 0 : (a, b) -> t.extend(a) < t.extend(b);
            case "le", "ls" -> unsigned ? (a, b) -> Long.compareUnsigned(t.extend(a), t.extend(b)) <= 0 : (a, b) -> t.extend(a) <= t.extend(b);
            case "gt", "hi" -> unsigned ? (a, b) -> Long.compareUnsigned(t.extend(a), t.extend(b)) > 0 : (a, b) -> t.extend(a) > t.extend(b);
            case "ge", "hs" -> unsigned ? (a, b) -> Long.compareUnsigned(t.extend(a), t.extend(b)) >= 0 : (a, b) -> t.extend(a) >= t.extend(b);
            default -> throw new UnsupportedOperationException("setp." + cmp + " on integers");
        };
    }

    private static Cmp floatCmp(String cmp, PtxType t, boolean ftz) {
        boolean single = t == PtxType.F32;
        return (a, b) -> {
            double x = single ? ftzIn(f(a), ftz) : d(a);
            double y = single ? ftzIn(f(b), ftz) : d(b);
            boolean nan = Double.isNaN(x) || Double.isNaN(y);
            return switch (cmp) {
                case "eq" -> !nan && x == y;
                case "ne" -> !nan && x != y;
                case "lt" -> !nan && x < y;
                case "le" -> !nan && x <= y;
                case "gt" -> !nan && x > y;
                case "ge" -> !nan && x >= y;
                case "equ" -> nan || x == y;
                case "neu" -> nan || x != y;
                case "ltu" -> nan || x < y;
                case "leu" -> nan || x <= y;
                case "gtu" -> nan || x > y;
                case "geu" -> nan || x >= y;
                case "num" -> !nan;
                case "nan" -> nan;
                default -> throw new IllegalStateException(cmp);
            };
        };
    }

    // ---- arithmetic

    private static Exec arith(PtxKernel k, String op, Mods m, List<String> ops) {
        String rnd = m.takeOne("rn", "rz", "rm", "rp", "approx", "full");
        boolean ftz = m.take("ftz");
        boolean sat = m.take("sat");
        String part = m.takeOne("lo", "hi", "wide");
        m.take("cc");
        PtxType t = m.type();
        m.done();
        if (op.equals("testp")) throw new UnsupportedOperationException("testp");
        if (rnd != null && (rnd.equals("rz") || rnd.equals("rm") || rnd.equals("rp")) && t == PtxType.F32 && op.equals("fma")) {
            int d = k.regSlot(ops.get(0)), a = k.srcSlot(ops.get(1), t), b = k.srcSlot(ops.get(2), t), c = k.srcSlot(ops.get(3), t);
            return x -> x.r[d] = f32(fin(fmaDirected(ftzIn(f(x.r[a]), ftz), ftzIn(f(x.r[b]), ftz), ftzIn(f(x.r[c]), ftz), rnd), ftz, sat));
        }
        if (rnd != null && (rnd.equals("rz") || rnd.equals("rm") || rnd.equals("rp")) && t == PtxType.F32
                && (op.equals("add") || op.equals("sub") || op.equals("mul"))) {
            // libdevice's powf and log1pf use add.rz/mul.rz: each is an fma with one exact operand, rounded once
            int d = k.regSlot(ops.get(0)), a = k.srcSlot(ops.get(1), t), b = k.srcSlot(ops.get(2), t);
            return x -> {
                float fa = ftzIn(f(x.r[a]), ftz), fb = ftzIn(f(x.r[b]), ftz);
                float r = switch (op) {
                    case "add" -> fmaDirected(fa, 1f, fb, rnd);
                    case "sub" -> fmaDirected(fa, 1f, -fb, rnd);
                    default -> fa == 0f || fb == 0f ? fa * fb : fmaDirected(fa, fb, 0f, rnd);
                };
                x.r[d] = f32(fin(r, ftz, sat));
            };
        }
        if (rnd != null && (rnd.equals("rz") || rnd.equals("rm") || rnd.equals("rp"))) {
            throw new UnsupportedOperationException("directed rounding ." + rnd + " of " + m.opcode);
        }
        int d = k.regSlot(ops.get(0));
        int a = ops.size() > 1 ? k.srcSlot(ops.get(1), t) : -1;
        PtxType bt = (op.equals("shl") || op.equals("shr")) ? PtxType.U32 : t;
        int b = ops.size() > 2 ? k.srcSlot(ops.get(2), bt) : -1;
        int c = ops.size() > 3 ? k.srcSlot(ops.get(3), "wide".equals(part) ? widen(t) : t) : -1;
        if (t == PtxType.F32) return f32Op(op, rnd, ftz, sat, d, a, b, c, m.opcode);
        if (t == PtxType.F64) return f64Op(op, rnd, d, a, b, c, m.opcode);
        if (t == PtxType.PRED) return predOp(op, d, a, b, m.opcode);
        if (sat) throw new UnsupportedOperationException(m.opcode + ": .sat on integers");
        return intOp(op, part, t, d, a, b, c, m.opcode);
    }

    private static PtxType widen(PtxType t) {
        return switch (t) {
            case S16 -> PtxType.S32; case U16 -> PtxType.U32; case S32 -> PtxType.S64; case U32 -> PtxType.U64;
            default -> throw new UnsupportedOperationException(".wide of " + t);
        };
    }

    /**
     * fma.rz/.rm/.rp.f32 (libdevice's logf and expf use them): the exact a·b + c in BigDecimal,
     * rounded once in the named direction.
     */
    static float fmaDirected(float a, float b, float c, String rnd) {
        float nearest = Math.fma(a, b, c);
        if (!Float.isFinite(a) || !Float.isFinite(b) || !Float.isFinite(c) || !Float.isFinite(nearest) && !rnd.equals("rz")) return nearest;
        java.math.BigDecimal exact = new java.math.BigDecimal(a).multiply(new java.math.BigDecimal(b)).add(new java.math.BigDecimal(c));
        if (exact.signum() == 0) {
            boolean bothPlusZero = Float.floatToRawIntBits(a * b) == 0 && Float.floatToRawIntBits(c) == 0;
            boolean bothMinusZero = (a * b == 0 && Float.floatToRawIntBits(a * b) != 0) && Float.floatToRawIntBits(c) == Integer.MIN_VALUE;
            if (bothMinusZero) return -0f;
            return rnd.equals("rm") && !bothPlusZero ? -0f : 0f;
        }
        float r = Float.isFinite(nearest) ? nearest : Math.copySign(Float.MAX_VALUE, nearest);
        int cmp = new java.math.BigDecimal(r).compareTo(exact);
        boolean towardZero = rnd.equals("rz");
        if (rnd.equals("rm") || towardZero && exact.signum() > 0) { if (cmp > 0) r = Math.nextDown(r); }
        else if (cmp < 0) r = Math.nextUp(r);
        return r;
    }

    static float f(long v) { return Float.intBitsToFloat((int) v); }
    static long f32(float x) { return Float.floatToRawIntBits(x) & M32; }
    static double d(long v) { return Double.longBitsToDouble(v); }
    static long f64(double x) { return Double.doubleToRawLongBits(x); }

    static float ftzIn(float x, boolean ftz) {
        return ftz && Math.abs(x) < Float.MIN_NORMAL ? Math.copySign(0f, x) : x;
    }

    static float fin(float x, boolean ftz, boolean sat) {
        if (sat) x = Float.isNaN(x) ? 0f : Math.max(0f, Math.min(1f, x));
        return ftzIn(x, ftz);
    }

    static double sat(double x) { return Double.isNaN(x) ? 0 : Math.max(0, Math.min(1, x)); }

    static float maxNum(float a, float b) { return Float.isNaN(a) ? b : Float.isNaN(b) ? a : Math.max(a, b); }
    static float minNum(float a, float b) { return Float.isNaN(a) ? b : Float.isNaN(b) ? a : Math.min(a, b); }

    interface F1 { float apply(float a); }
    interface F2 { float apply(float a, float b); }
    interface F3 { float apply(float a, float b, float c); }

    private static Exec f32Op(String op, String rnd, boolean ftz, boolean sat, int d, int a, int b, int c, String opcode) {
        boolean approx = "approx".equals(rnd) || "full".equals(rnd);
        F1 u = switch (op) {
            case "neg" -> x -> -x;
            case "abs" -> Math::abs;
            case "sqrt" -> x -> (float) Math.sqrt(x);
            case "rsqrt" -> x -> (float) (1.0 / Math.sqrt(x));
            case "rcp" -> x -> (float) (1.0 / x);
            case "ex2" -> x -> (float) Math.pow(2.0, x);
            case "lg2" -> x -> (float) (Math.log(x) / Math.log(2.0));
            case "sin" -> x -> (float) Math.sin(x);
            case "cos" -> x -> (float) Math.cos(x);
            case "tanh" -> x -> (float) Math.tanh(x);
            default -> null;
        };
        if (u != null) {
            if (a < 0) throw new UnsupportedOperationException(opcode + " without an operand");
            return x -> x.r[d] = f32(fin(u.apply(ftzIn(f(x.r[a]), ftz)), ftz, sat));
        }
        F2 bin = switch (op) {
            case "add" -> (x, y) -> x + y;
            case "sub" -> (x, y) -> x - y;
            case "mul" -> (x, y) -> x * y;
            case "div" -> approx ? (x, y) -> x * (float) (1.0 / y) : (x, y) -> (float) ((double) x / y);
            case "min" -> PtxOps::minNum;
            case "max" -> PtxOps::maxNum;
            case "copysign" -> (x, y) -> Math.copySign(y, x);   // copysign.f32 d, a, b: |b| with a's sign
            default -> null;
        };
        if (bin != null) return x -> x.r[d] = f32(fin(bin.apply(ftzIn(f(x.r[a]), ftz), ftzIn(f(x.r[b]), ftz)), ftz, sat));
        if (op.equals("fma") || op.equals("mad")) {
            if (rnd == null && op.equals("mad")) throw new UnsupportedOperationException("mad.f32 without rounding (unfused on old targets)");
            return x -> x.r[d] = f32(fin(Math.fma(ftzIn(f(x.r[a]), ftz), ftzIn(f(x.r[b]), ftz), ftzIn(f(x.r[c]), ftz)), ftz, sat));
        }
        throw new UnsupportedOperationException("instruction " + opcode + " is not emulated");
    }

    interface D1 { double apply(double a); }
    interface D2 { double apply(double a, double b); }

    private static Exec f64Op(String op, String rnd, int d, int a, int b, int c, String opcode) {
        D1 u = switch (op) {
            case "neg" -> x -> -x;
            case "abs" -> Math::abs;
            case "sqrt" -> Math::sqrt;
            case "rsqrt" -> x -> 1.0 / Math.sqrt(x);
            case "rcp" -> x -> 1.0 / x;
            default -> null;
        };
        if (u != null) return x -> x.r[d] = f64(u.apply(d(x.r[a])));
        D2 bin = switch (op) {
            case "add" -> Double::sum;
            case "sub" -> (x, y) -> x - y;
            case "mul" -> (x, y) -> x * y;
            case "div" -> (x, y) -> x / y;
            case "min" -> (x, y) -> Double.isNaN(x) ? y : Double.isNaN(y) ? x : Math.min(x, y);
            case "max" -> (x, y) -> Double.isNaN(x) ? y : Double.isNaN(y) ? x : Math.max(x, y);
            default -> null;
        };
        if (bin != null) return x -> x.r[d] = f64(bin.apply(d(x.r[a]), d(x.r[b])));
        if (op.equals("fma") || op.equals("mad")) return x -> x.r[d] = f64(Math.fma(d(x.r[a]), d(x.r[b]), d(x.r[c])));
        throw new UnsupportedOperationException("instruction " + opcode + " is not emulated");
    }

    private static Exec predOp(String op, int d, int a, int b, String opcode) {
        return switch (op) {
            case "and" -> x -> x.r[d] = x.r[a] & x.r[b] & 1;
            case "or" -> x -> x.r[d] = (x.r[a] | x.r[b]) & 1;
            case "xor" -> x -> x.r[d] = (x.r[a] ^ x.r[b]) & 1;
            case "not" -> x -> x.r[d] = (x.r[a] ^ 1) & 1;
            default -> throw new UnsupportedOperationException("instruction " + opcode + " is not emulated");
        };
    }

    interface L2 { long apply(long a, long b); }

    private static Exec intOp(String op, String part, PtxType t, int d, int a, int b, int c, String opcode) {
        long mask = t.mask();
        boolean signed = t.signed();
        int bits = t.bits();
        boolean wide = "wide".equals(part), hi = "hi".equals(part);
        if (op.equals("mul") || op.equals("mad")) {
            boolean mad = op.equals("mad");
            long outMask = wide ? widen(t).mask() : mask;
            L2 mul;
            if (wide) mul = (x, y) -> t.extend(x) * t.extend(y);
            else if (hi && bits == 64) mul = signed ? Math::multiplyHigh : Math::unsignedMultiplyHigh;
            else if (hi) mul = (x, y) -> (t.extend(x) * t.extend(y)) >> bits;
            else mul = (x, y) -> x * y;
            return mad ? x -> x.r[d] = (mul.apply(x.r[a], x.r[b]) + x.r[c]) & outMask
                       : x -> x.r[d] = mul.apply(x.r[a], x.r[b]) & outMask;
        }
        L2 f = switch (op) {
            case "add" -> Long::sum;
            case "sub" -> (x, y) -> x - y;
            case "div" -> signed ? (x, y) -> t.extend(y) == 0 ? -1 : t.extend(x) / t.extend(y)
                                 : (x, y) -> (y & mask) == 0 ? -1 : Long.divideUnsigned(x & mask, y & mask);
            case "rem" -> signed ? (x, y) -> t.extend(y) == 0 ? x : t.extend(x) % t.extend(y)
                                 : (x, y) -> (y & mask) == 0 ? x : Long.remainderUnsigned(x & mask, y & mask);
            case "min" -> signed ? (x, y) -> Math.min(t.extend(x), t.extend(y))
                                 : (x, y) -> Long.compareUnsigned(x & mask, y & mask) <= 0 ? x : y;
            case "max" -> signed ? (x, y) -> Math.max(t.extend(x), t.extend(y))
                                 : (x, y) -> Long.compareUnsigned(x & mask, y & mask) >= 0 ? x : y;
            case "and" -> (x, y) -> x & y;
            case "or" -> (x, y) -> x | y;
            case "xor" -> (x, y) -> x ^ y;
            case "shl" -> (x, y) -> (y & M32) >= bits ? 0 : x << (y & M32);
            case "shr" -> signed ? (x, y) -> t.extend(x) >> Math.min(y & M32, bits - 1)
                                 : (x, y) -> (y & M32) >= bits ? 0 : (x & mask) >>> (y & M32);
            case "copysign" -> null;
            default -> null;
        };
        if (f != null) return x -> x.r[d] = f.apply(x.r[a], x.r[b]) & mask;
        return switch (op) {
            case "neg" -> x -> x.r[d] = -x.r[a] & mask;
            case "abs" -> x -> x.r[d] = Math.abs(t.extend(x.r[a])) & mask;
            case "not" -> x -> x.r[d] = ~x.r[a] & mask;
            case "cnot" -> x -> x.r[d] = (x.r[a] & mask) == 0 ? 1 : 0;
            case "popc" -> x -> x.r[d] = Long.bitCount(x.r[a] & mask);
            case "clz" -> x -> x.r[d] = Long.numberOfLeadingZeros(x.r[a] & mask) - (64 - bits);
            case "brev" -> x -> x.r[d] = (Long.reverse(x.r[a]) >>> (64 - bits)) & mask;
            default -> throw new UnsupportedOperationException("instruction " + opcode + " is not emulated");
        };
    }
}
