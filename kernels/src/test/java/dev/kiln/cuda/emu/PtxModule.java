package dev.kiln.cuda.emu;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A PTX module as nvcc writes it, parsed into kernels the emulator can run: the module's
 * shared-memory variables and each {@code .entry} with its parameters and body. Anything the
 * emulator does not know (a directive, a {@code .func} call, global variables) fails here or at
 * compile time, naming the kernel and the line, rather than being ignored.
 */
final class PtxModule {
    /** A {@code .shared} variable: byte offset in the block's shared memory and size (-1 for {@code .extern}). */
    record SharedVar(String name, int offset, int size, int align) {}

    /** A kernel parameter: its declared type (or a .b8 array) and byte offset in the parameter space. */
    record Param(String name, String type, int offset, int size) {}

    /** One entry point before compilation: parameters and the statements of its body. */
    record Entry(String name, List<Param> params, int paramBytes, List<String> body) {}

    final Map<String, SharedVar> shared = new LinkedHashMap<>();
    final Map<String, PtxKernel> kernels = new LinkedHashMap<>();
    int staticSharedBytes;
    String dynamicShared;   // the .extern .shared array's name, if any

    static PtxModule parse(String ptx) {
        PtxModule m = new PtxModule();
        String text = stripComments(ptx);
        int i = 0;
        int n = text.length();
        List<Entry> entries = new ArrayList<>();
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) i++;
            if (i >= n) break;
            if (text.startsWith(".version", i) || text.startsWith(".target", i) || text.startsWith(".address_size", i)) {
                int eol = text.indexOf('\n', i);   // these three directives end at the line's end, without ';'
                i = eol < 0 ? n : eol + 1;
                continue;
            }
            int headerEnd = nextOf(text, i, ";{");
            if (headerEnd < 0) throw new IllegalArgumentException("PTX ends inside a statement: " + text.substring(i, Math.min(n, i + 80)));
            String header = text.substring(i, headerEnd).trim();
            if (text.charAt(headerEnd) == ';') {
                m.moduleDirective(header.replaceAll("\\s+", " "));
                i = headerEnd + 1;
                continue;
            }
            int close = matchingBrace(text, headerEnd);
            String body = text.substring(headerEnd + 1, close);
            i = close + 1;
            String h = header.replaceAll("\\s+", " ");
            if (h.contains(".entry ")) entries.add(parseEntry(h, body));
            else if (h.contains(".func ")) {
                throw new IllegalArgumentException("PTX declares a device function (" + h + "); the emulator runs only "
                        + ".entry kernels with inlined callees: mark the callee __forceinline__ or teach the emulator call/ret");
            } else throw new IllegalArgumentException("unknown PTX block: " + h);
        }
        for (Entry e : entries) m.kernels.put(e.name(), new PtxKernel(m, e));
        return m;
    }

    private void moduleDirective(String d) {
        if (d.startsWith(".extern .func") || d.startsWith(".visible .func") || d.startsWith(".func")) {
            throw new IllegalArgumentException("PTX declares a device function (" + d + "); the emulator runs only inlined code");
        }
        if (d.contains(".shared")) { sharedDirective(d); return; }
        throw new IllegalArgumentException("the PTX emulator does not know the module directive '" + d + "'");
    }

    // .shared .align 4 .b8 name[1024]   |   .extern .shared .align 16 .b8 name[]
    private void sharedDirective(String d) {
        SharedVar v = declareShared(d, staticSharedBytes);
        shared.put(v.name(), v);
        if (v.size() < 0) dynamicShared = v.name();
        else staticSharedBytes = v.offset() + v.size();
    }

    /** A shared declaration placed at the first suitably aligned offset from {@code end}; size -1 for the dynamic array. */
    static SharedVar declareShared(String d, int end) {
        String[] t = d.split(" ");
        int align = 1;
        String type = null;
        String decl = t[t.length - 1];
        for (int k = 0; k < t.length - 1; k++) {
            if (t[k].equals(".align")) align = Integer.parseInt(t[k + 1]);
            else if (t[k].startsWith(".") && PtxType.named(t[k].substring(1)) != null) type = t[k].substring(1);
        }
        if (type == null) throw new IllegalArgumentException("shared declaration without a type: " + d);
        int elem = PtxType.named(type).bytes;
        String name = decl;
        int count = 1;
        int lb = decl.indexOf('[');
        if (lb >= 0) {
            name = decl.substring(0, lb);
            String len = decl.substring(lb + 1, decl.indexOf(']'));
            count = len.isEmpty() ? -1 : Integer.parseInt(len);
        }
        if (count < 0) return new SharedVar(name, -1, -1, Math.max(align, 16));
        int offset = (end + align - 1) / align * align;
        return new SharedVar(name, offset, count * elem, align);
    }

    private static Entry parseEntry(String header, String body) {
        int open = header.indexOf('(');
        String before = open < 0 ? header : header.substring(0, open);
        String[] words = before.trim().split(" ");
        String name = words[words.length - 1];
        List<Param> params = new ArrayList<>();
        int offset = 0;
        if (open >= 0) {
            String list = header.substring(open + 1, header.lastIndexOf(')'));
            for (String p : list.split(",")) {
                p = p.trim();
                if (p.isEmpty()) continue;
                String[] t = p.split(" ");
                int align = 0;
                String type = null;
                for (int k = 0; k < t.length - 1; k++) {
                    if (t[k].equals(".align")) align = Integer.parseInt(t[k + 1]);
                    else if (t[k].startsWith(".") && PtxType.named(t[k].substring(1)) != null) type = t[k].substring(1);
                }
                String pn = t[t.length - 1];
                int size = PtxType.named(type).bytes;
                int lb = pn.indexOf('[');
                if (lb >= 0) {
                    size *= Integer.parseInt(pn.substring(lb + 1, pn.indexOf(']')));
                    pn = pn.substring(0, lb);
                    type = "b8[" + size + "]";
                }
                if (align == 0) align = Math.min(size, 8);
                offset = (offset + align - 1) / align * align;
                params.add(new Param(pn, type, offset, size));
                offset += size;
            }
        }
        List<String> statements = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int k = 0; k < body.length(); k++) {
            char c = body.charAt(k);
            if (c == ';') {
                String s = cur.toString().trim();
                if (!s.isEmpty()) statements.add(s.replaceAll("\\s+", " "));
                cur.setLength(0);
            } else if (c == ':' && isLabelSoFar(cur)) {
                statements.add(cur.toString().trim() + ":");
                cur.setLength(0);
            } else if ((c == '{' || c == '}') && cur.toString().isBlank()) {
                // A scope nvcc opens around inline asm: it carries no meaning for execution.
            } else cur.append(c);
        }
        if (!cur.toString().isBlank()) throw new IllegalArgumentException("kernel " + name + ": statement without ';': " + cur);
        return new Entry(name, params, offset, statements);
    }

    private static boolean isLabelSoFar(StringBuilder cur) {
        String s = cur.toString().trim();
        return !s.isEmpty() && s.matches("[$A-Za-z_][$\\w]*");
    }

    private static String stripComments(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '/' && i + 1 < n && s.charAt(i + 1) == '/') {
                while (i < n && s.charAt(i) != '\n') i++;
                out.append('\n');
            } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                int end = s.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 1;
            } else out.append(c);
        }
        return out.toString();
    }

    private static int nextOf(String s, int from, String chars) {
        for (int i = from; i < s.length(); i++) if (chars.indexOf(s.charAt(i)) >= 0) return i;
        return -1;
    }

    private static int matchingBrace(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            if (s.charAt(i) == '{') depth++;
            else if (s.charAt(i) == '}' && --depth == 0) return i;
        }
        throw new IllegalArgumentException("unbalanced braces in PTX after offset " + open);
    }
}
