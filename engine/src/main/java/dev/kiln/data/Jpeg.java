package dev.kiln.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * JPEG checks the JDK decoder leaves to a warning nobody hears: the file must run to an
 * end-of-image marker (FFD9) after its image data, and the decoder must not report damaged data.
 * Without them a JPEG cut in half loads with its lower half grey.
 */
final class Jpeg {
    /**
     * Decoder warnings that leave the pixels intact: metadata the JDK or libjpeg ignores. Every
     * other warning (premature end of data, bad Huffman code, extraneous bytes, a missing EOI)
     * means some pixels are not what the file's author wrote.
     */
    private static final List<String> HARMLESS_WARNINGS = List.of(
            "JFIF markers not allowed in JFIF JPEG thumbnail",
            "Embedded color profile is invalid",
            "bad ICC marker",
            "unknown JFIF revision number");

    private Jpeg() {}

    /** Starts with SOI (FFD8) and another marker. */
    static boolean isJpeg(byte[] b) {
        return b.length >= 3 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8 && (b[2] & 0xFF) == 0xFF;
    }

    /**
     * Walks the marker segments up to the first scan (their lengths step over an EXIF thumbnail and
     * its own FFD9), then looks for FFD9 in or after the scan data. Entropy-coded data escapes every
     * 0xFF (FF00, or an RSTn marker), so FFD9 there is the end of the image; bytes after it (padding
     * some cameras add, a second image) are allowed.
     */
    static void verifyComplete(Path file, byte[] b) throws IOException {
        int p = 2;
        while (true) {
            if (p + 2 > b.length) throw truncated(file, b, "it ends inside its headers, before any image data");
            if ((b[p] & 0xFF) != 0xFF) break;   // not a marker where one belongs: leave the verdict to the decoder
            int marker = b[p + 1] & 0xFF;
            if (marker == 0xFF) { p++; continue; }                                 // fill byte before a marker
            p += 2;
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;   // TEM, RSTn: no length
            if (marker == 0xD9) throw new IOException(file + ": corrupt JPEG (end-of-image marker at byte " + (p - 2) + ", before any image data)");
            if (p + 2 > b.length) throw truncated(file, b, "it ends inside its headers, before any image data");
            int length = ((b[p] & 0xFF) << 8) | (b[p + 1] & 0xFF);
            if (length < 2 || p + length > b.length)
                throw truncated(file, b, String.format("a header segment (marker FF%02X at byte %d) claims %d bytes", marker, p - 2, length));
            p += length;
            if (marker == 0xDA) break;   // SOS: the entropy-coded data follows
        }
        for (int i = p; i + 1 < b.length; i++) {
            if ((b[i] & 0xFF) == 0xFF && (b[i + 1] & 0xFF) == 0xD9) return;
        }
        throw truncated(file, b, "no end-of-image marker (FFD9) after the image data");
    }

    /** Null when the decoder's warning leaves the pixels intact, else the error to throw. */
    static IOException warningAsError(Path file, String warning) {
        for (String harmless : HARMLESS_WARNINGS) if (warning.contains(harmless)) return null;
        String kind = warning.startsWith("Truncated") || warning.startsWith("Premature end of JPEG file") ? "truncated" : "corrupt";
        return new IOException(file + ": " + kind + " JPEG (the decoder reports: " + warning + "); some pixels would be wrong, so it is not loaded");
    }

    private static IOException truncated(Path file, byte[] b, String why) {
        return new IOException(file + ": truncated JPEG (" + why + ": the file, " + b.length + " bytes, is cut off)");
    }
}
