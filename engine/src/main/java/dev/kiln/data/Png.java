package dev.kiln.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * PNG container checks the JDK decoder skips: the chunk sequence, each chunk's CRC-32, and the
 * end at IEND. With them a flipped, dropped or inserted byte anywhere in a PNG is an error rather
 * than silently wrong pixels.
 */
final class Png {
    private static final byte[] SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    private Png() {}

    static boolean isPng(byte[] b) {
        if (b.length < 4) return false;
        // Match on the first bytes only, so a damaged signature is still checked as a PNG.
        return b[1] == 'P' && b[2] == 'N' && b[3] == 'G';
    }

    static void verify(Path file, byte[] b) throws IOException {
        for (int i = 0; i < SIGNATURE.length; i++) {
            if (i >= b.length || b[i] != SIGNATURE[i]) throw new IOException(file + ": damaged PNG signature (byte " + i + ")");
        }
        int p = SIGNATURE.length;
        boolean first = true;
        CRC32 crc = new CRC32();
        while (true) {
            if (b.length - p < 12) throw new IOException(file + ": truncated PNG (chunk header at byte " + p + " is cut off)");
            long len = readInt(b, p) & 0xFFFFFFFFL;
            if (len > b.length - p - 12L) throw new IOException(file + ": truncated or corrupt PNG (a chunk at byte " + p + " claims " + len + " bytes)");
            String type = new String(b, p + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            if (first && !type.equals("IHDR")) throw new IOException(file + ": corrupt PNG (first chunk is not IHDR)");
            first = false;
            crc.reset();
            crc.update(b, p + 4, (int) (4 + len));
            long stored = readInt(b, p + 8 + (int) len) & 0xFFFFFFFFL;
            if (crc.getValue() != stored) throw new IOException(file + ": corrupt PNG (checksum mismatch in the " + printable(type) + " chunk at byte " + p + ")");
            p += 12 + (int) len;
            if (type.equals("IEND")) break;
        }
        if (p != b.length) throw new IOException(file + ": corrupt PNG (" + (b.length - p) + " bytes after the IEND chunk)");
    }

    private static int readInt(byte[] b, int p) {
        return ((b[p] & 0xFF) << 24) | ((b[p + 1] & 0xFF) << 16) | ((b[p + 2] & 0xFF) << 8) | (b[p + 3] & 0xFF);
    }

    private static String printable(String s) {
        StringBuilder sb = new StringBuilder();
        for (char ch : s.toCharArray()) sb.append(ch >= 32 && ch < 127 ? ch : '?');
        return sb.toString();
    }
}
