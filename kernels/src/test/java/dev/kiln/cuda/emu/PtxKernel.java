package dev.kiln.cuda.emu;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One PTX kernel compiled for the emulator: every register (special registers and immediates
 * included) is a slot in a per-lane {@code long[]}, and every instruction is a small closure over
 * slot numbers. 32-bit values sit zero-extended in the low half of their slot (floats as raw bits),
 * predicates are 0 or 1. Instructions the compiler does not know fail here, naming the kernel and
 * the statement.
 */
final class PtxKernel {
    static final long M32 = 0xFFFF_FFFFL;
    static final int NORMAL = 0, BRANCH = 1, EXIT = 2, BARRIER = 3, WARP_SYNC = 4;

    /** Special registers, in their slot order. */
    static final List<String> SPECIAL = List.of("%tid.x", "%tid.y", "%tid.z", "%ntid.x", "%ntid.y", "%ntid.z",
            "%ctaid.x", "%ctaid.y", "%ctaid.z", "%nctaid.x", "%nctaid.y", "%nctaid.z", "%laneid", "%warpid", "WARP_SZ");

    interface Exec { void run(Lane t); }

    /** A warp-wide step (shfl.sync, bar.warp.sync): run once all the warp's live lanes reach it. */
    interface WarpExec { void run(Lane[] warpLanes, int count); }

    static final class Insn {
        final String text;
        int guard = -1;
        boolean guardNegated;
        int kind = NORMAL;
        String targetLabel;
        int target;
        Exec exec;
        WarpExec warpExec;
        Insn(String text) { this.text = text; }
    }

    final String name;
    final PtxModule module;
    final List<PtxModule.Param> params;
    final int paramBytes;
    final Insn[] code;
    final int staticSharedBytes;
    final int dynamicSharedOffset;
    final boolean hasDynamicShared;
    long[] template;
    private final Map<String, Integer> slots = new HashMap<>();
    private final List<long[]> constants = new ArrayList<>();   // {slot, value}
    private final Map<String, Long> symbols = new HashMap<>();
    private final Set<String> opcodes = new HashSet<>();

    PtxKernel(PtxModule module, PtxModule.Entry entry) {
        this.name = entry.name();
        this.module = module;
        this.params = entry.params();
        this.paramBytes = entry.paramBytes();
        for (String s : SPECIAL) slots.put(s, slots.size());
        for (PtxModule.Param p : params) symbols.put(p.name(), (long) p.offset());
        // Shared memory: the module's static arrays, then this body's, then the dynamic (extern) array.
        int sharedEnd = module.staticSharedBytes;
        String dynamic = module.dynamicShared;
        for (PtxModule.SharedVar v : module.shared.values()) if (v.offset() >= 0) symbols.put(v.name(), (long) v.offset());
        for (String s : entry.body()) {
            if (!s.startsWith(".shared") && !s.startsWith(".extern .shared")) continue;
            PtxModule.SharedVar v = PtxModule.declareShared(s, sharedEnd);
            if (v.size() < 0) { dynamic = v.name(); continue; }
            symbols.put(v.name(), (long) v.offset());
            sharedEnd = v.offset() + v.size();
        }
        staticSharedBytes = sharedEnd;
        dynamicSharedOffset = (sharedEnd + 15) / 16 * 16;
        hasDynamicShared = dynamic != null;
        if (dynamic != null) symbols.put(dynamic, (long) dynamicSharedOffset);
        List<Insn> out = new ArrayList<>();
        Map<String, Integer> labels = new HashMap<>();
        for (String s : entry.body()) {
            if (s.endsWith(":")) { labels.put(s.substring(0, s.length() - 1), out.size()); continue; }
            if (s.startsWith(".reg") || s.startsWith(".shared") || s.startsWith(".extern .shared") || s.startsWith(".pragma") || s.startsWith(".loc") || s.startsWith(".maxntid")
                    || s.startsWith(".reqntid") || s.startsWith(".minnctapersm")) continue;
            if (s.startsWith(".local")) throw fail(s, "local memory (a per-thread array or register spill) is not emulated");
            if (s.startsWith(".")) throw fail(s, "unknown directive in a kernel body");
            try {
                out.add(compile(s));
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                throw fail(s, e.getMessage());
            }
        }
        out.add(exitInsn());
        for (Insn in : out) {
            if (in.kind == BRANCH) {
                Integer t = labels.get(in.targetLabel);
                if (t == null) throw fail(in.text, "branch to an unknown label");
                in.target = t;
            }
        }
        code = out.toArray(Insn[]::new);
        template = new long[slots.size()];
        for (long[] c : constants) template[(int) c[0]] = c[1];
    }

    /** The distinct opcodes (with modifiers) this kernel uses. */
    Set<String> opcodes() { return opcodes; }

    private IllegalArgumentException fail(String stmt, String why) {
        return new IllegalArgumentException("PTX emulator, kernel " + name + ": '" + stmt + "': " + why);
    }

    private static Insn exitInsn() {
        Insn in = new Insn("exit (end of body)");
        in.kind = EXIT;
        return in;
    }

    // ---- operands

    private int reg(String tok) {
        if (!tok.startsWith("%") && !tok.equals("WARP_SZ")) throw new IllegalArgumentException("expected a register, got " + tok);
        return slots.computeIfAbsent(tok, k -> slots.size());
    }

    private int constant(long value) {
        int slot = slots.size();
        slots.put("#const" + slot, slot);
        constants.add(new long[] {slot, value});
        return slot;
    }

    /** A source operand as a slot: a register, or an immediate or symbol address placed in a constant slot. */
    private int src(String tok, PtxType type) {
        if (tok.startsWith("%") || tok.equals("WARP_SZ")) return reg(tok);
        if (symbols.containsKey(tok)) return constant(symbols.get(tok));
        return constant(immediate(tok, type));
    }

    static long immediate(String tok, PtxType type) {
        String t = tok;
        try {
            if (t.length() > 2 && (t.startsWith("0f") || t.startsWith("0F"))) {
                long bits = Long.parseLong(t.substring(2), 16);
                if (type == PtxType.F64) return Double.doubleToRawLongBits(Float.intBitsToFloat((int) bits));
                return bits & M32;
            }
            if (t.length() > 2 && (t.startsWith("0d") || t.startsWith("0D"))) {
                long bits = Long.parseUnsignedLong(t.substring(2), 16);
                if (type == PtxType.F32) return Float.floatToRawIntBits((float) Double.longBitsToDouble(bits)) & M32;
                return bits;
            }
            boolean neg = t.startsWith("-");
            if (neg) t = t.substring(1);
            if (t.endsWith("U")) t = t.substring(0, t.length() - 1);
            long v;
            if (t.startsWith("0x") || t.startsWith("0X")) v = Long.parseUnsignedLong(t.substring(2), 16);
            else if (t.contains(".") || t.contains("e")) {
                double d = Double.parseDouble(t) * (neg ? -1 : 1);
                return type == PtxType.F64 ? Double.doubleToRawLongBits(d) : Float.floatToRawIntBits((float) d) & M32;
            } else v = Long.parseUnsignedLong(t);
            if (neg) v = -v;
            if (type != null && type.isFloat()) {
                return type == PtxType.F64 ? Double.doubleToRawLongBits(v) : Float.floatToRawIntBits((float) v) & M32;
            }
            return type == null ? v : v & type.mask();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("unknown operand '" + tok + "' (not a register, symbol or immediate)");
        }
    }

    /** [base], [base+off], [symbol+off] as a slot holding the base and a constant offset. */
    private long[] address(String tok) {
        if (!tok.startsWith("[") || !tok.endsWith("]")) throw new IllegalArgumentException("expected an address, got " + tok);
        String in = tok.substring(1, tok.length() - 1).trim();
        long off = 0;
        int plus = in.indexOf('+');
        if (plus > 0) {
            off = Long.parseLong(in.substring(plus + 1).trim());
            in = in.substring(0, plus).trim();
        }
        int base = src(in, PtxType.U64);
        return new long[] {base, off};
    }

    private static List<String> operands(String s) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        StringBuilder cur = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '[' || c == '{') depth++;
            if (c == ']' || c == '}') depth--;
            if (c == ',' && depth == 0) { out.add(cur.toString().trim()); cur.setLength(0); } else cur.append(c);
        }
        if (!cur.toString().isBlank()) out.add(cur.toString().trim());
        return out;
    }

    private static List<String> vector(String tok) {
        List<String> out = new ArrayList<>();
        for (String p : tok.substring(1, tok.length() - 1).split(",")) out.add(p.trim());
        return out;
    }

    // ---- instructions

    private Insn compile(String stmt) {
        Insn in = new Insn(stmt);
        String s = stmt;
        if (s.startsWith("@")) {
            int sp = s.indexOf(' ');
            String g = s.substring(1, sp);
            in.guardNegated = g.startsWith("!");
            in.guard = reg(in.guardNegated ? g.substring(1) : g);
            s = s.substring(sp + 1).trim();
        }
        int sp = s.indexOf(' ');
        String opcode = sp < 0 ? s : s.substring(0, sp);
        List<String> ops = sp < 0 ? List.of() : operands(s.substring(sp + 1));
        opcodes.add(opcode);
        String[] parts = opcode.split("\\.");
        Mods m = new Mods(parts);
        switch (parts[0]) {
            case "bra" -> { m.take("uni"); m.done(); in.kind = BRANCH; in.targetLabel = ops.get(0); }
            case "ret", "exit" -> { m.done(); in.kind = EXIT; }
            case "bar", "barrier" -> {
                if (m.take("warp")) { m.take("sync"); m.done(); in.kind = WARP_SYNC; in.warpExec = (l, c) -> {}; break; }
                if (!m.take("sync") && !m.take("red")) m.take("arrive");
                m.take("aligned");
                m.done();
                if (ops.size() > 1) throw new UnsupportedOperationException("bar.sync with a thread count (named barriers over part of a block)");
                in.kind = BARRIER;
            }
            case "membar", "fence" -> { in.exec = t -> {}; }   // lanes run one at a time: memory is always coherent
            case "shfl" -> compileShfl(in, m, ops);
            default -> in.exec = PtxOps.compile(this, parts[0], m, ops);
        }
        return in;
    }

    private void compileShfl(Insn in, Mods m, List<String> ops) {
        m.take("sync");
        String mode = m.takeOne("up", "down", "bfly", "idx");
        m.type();
        m.done();
        if (mode == null) throw new UnsupportedOperationException("shfl without a mode");
        String[] dp = ops.get(0).split("\\|");
        int d = reg(dp[0]);
        int p = dp.length > 1 ? reg(dp[1]) : -1;
        int a = src(ops.get(1), PtxType.B32), b = src(ops.get(2), PtxType.B32), c = src(ops.get(3), PtxType.B32);
        in.kind = WARP_SYNC;
        in.exec = t -> t.shuffleIn = t.r[a];
        in.warpExec = (lanes, count) -> {
            Lane[] byLane = new Lane[32];
            for (int k = 0; k < count; k++) byLane[lanes[k].laneId] = lanes[k];
            long[] result = new long[count];
            boolean[] valid = new boolean[count];
            for (int k = 0; k < count; k++) {
                Lane t = lanes[k];
                int lane = t.laneId;
                int bval = (int) t.r[b] & 31;
                int cval = (int) t.r[c];
                int segmask = (cval >>> 8) & 31;
                int maxLane = (lane & segmask) | (cval & 31 & ~segmask);
                int minLane = lane & segmask;
                int j;
                boolean pval;
                switch (mode) {
                    case "up" -> { j = lane - bval; pval = j >= maxLane; }
                    case "down" -> { j = lane + bval; pval = j <= maxLane; }
                    case "bfly" -> { j = lane ^ bval; pval = j <= maxLane; }
                    default -> { j = minLane | (bval & ~segmask); pval = j <= maxLane; }
                }
                if (!pval) j = lane;
                if (byLane[j] == null) throw new IllegalStateException("PTX emulator, kernel " + name + ": shfl.sync." + mode
                        + " in lane " + lane + " reads lane " + j + ", which has exited");
                result[k] = byLane[j].shuffleIn;
                valid[k] = pval;
            }
            for (int k = 0; k < count; k++) {
                lanes[k].r[d] = result[k];
                if (p >= 0) lanes[k].r[p] = valid[k] ? 1 : 0;
            }
        };
    }

    int regSlot(String tok) { return reg(tok); }
    int srcSlot(String tok, PtxType type) { return src(tok, type); }
    long[] addressOf(String tok) { return address(tok); }
    static List<String> vectorOf(String tok) { return vector(tok); }

    /** An opcode's modifiers; each compiler takes the ones it knows, and {@link #done()} fails on any left. */
    static final class Mods {
        final String opcode;
        final List<String> rest = new ArrayList<>();

        Mods(String[] parts) {
            this.opcode = String.join(".", parts);
            for (int i = 1; i < parts.length; i++) rest.add(parts[i]);
        }

        boolean take(String mod) { return rest.remove(mod); }

        String takeOne(String... mods) {
            for (String x : mods) if (rest.remove(x)) return x;
            return null;
        }

        /** Removes and returns the first type modifier. */
        PtxType type() {
            for (int i = 0; i < rest.size(); i++) {
                PtxType t = PtxType.named(rest.get(i));
                if (t != null) { rest.remove(i); return t; }
            }
            throw new UnsupportedOperationException(opcode + " has no type");
        }

        void done() {
            if (!rest.isEmpty()) throw new UnsupportedOperationException("modifier(s) ." + String.join(" .", rest) + " of " + opcode + " not emulated");
        }
    }
}
