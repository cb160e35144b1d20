package dev.kiln.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Damaged JPEGs are errors naming the file, and CMYK / YCCK JPEGs decode to their RGB source's colours. */
class JpegTest {
    @TempDir Path tmp;

    /** The 48x32 image the committed YCCK fixture was made from (see src/test/resources/dev/kiln/data/README.md). */
    static BufferedImage source() {
        int w = 48, h = 32;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = x * 255 / (w - 1), g = 200 + y * 55 / (h - 1), b = x < w / 2 ? 40 : 220;
                img.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        return img;
    }

    /** A 96x64 photo-like image (smooth gradients plus seeded noise), so its JPEG has kilobytes of scan data to cut. */
    static byte[] photoJpeg() throws IOException {
        SplittableRandom r = new SplittableRandom(14);
        BufferedImage img = new BufferedImage(96, 64, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 96; x++) {
                int red = Math.clamp(x * 2 + r.nextInt(-30, 31), 0, 255), green = Math.clamp(y * 3 + r.nextInt(-30, 31), 0, 255);
                img.setRGB(x, y, red << 16 | green << 8 | (x * y) % 256);
            }
        }
        return FuzzTest.encode(img, "jpg");
    }

    Path write(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.createDirectories(p.getParent());
        Files.write(p, bytes);
        return p;
    }

    @Test void aJpegCutInHalfIsAnErrorNamingTheFile() throws IOException {
        byte[] jpg = photoJpeg();
        assertTrue(jpg.length > 2000, "the test image should have kilobytes of scan data, has " + jpg.length + " bytes");
        float[] whole = ImageFolder.decode(write("whole.jpg", jpg), false, 1 << 20).pixels();
        assertEquals(96 * 64 * 3, whole.length);
        for (int cut : new int[] {jpg.length / 2, jpg.length - 2, 300}) {
            Path half = write("cut-" + cut + ".jpg", Arrays.copyOf(jpg, cut));
            IOException e = assertThrows(IOException.class, () -> ImageFolder.decode(half, false, 1 << 20), "a JPEG cut at byte " + cut + " loaded");
            assertTrue(e.getMessage().startsWith(half.toString()) && e.getMessage().contains("truncated JPEG"), e.getMessage());
        }
    }

    @Test void bytesAfterTheEndOfImageMarkerAreAllowed() throws IOException {
        byte[] jpg = photoJpeg();
        float[] whole = ImageFolder.decode(write("whole.jpg", jpg), false, 1 << 20).pixels();
        byte[] padded = Arrays.copyOf(jpg, jpg.length + 64);   // zero padding, as some cameras add
        Arrays.fill(padded, jpg.length + 32, padded.length, (byte) 0xFF);
        assertArrayEquals(whole, ImageFolder.decode(write("padded.jpg", padded), false, 1 << 20).pixels());
    }

    @Test void damagedScanDataIsAnErrorQuotingTheDecoder() throws IOException {
        byte[] jpg = photoJpeg();
        // A restart marker (FFD3) in the middle of scan data that has no restart interval: the decoder
        // warns "premature end of data segment" and, unchecked, fills the rest of the image with grey.
        byte[] bad = jpg.clone();
        bad[jpg.length / 2] = (byte) 0xFF;
        bad[jpg.length / 2 + 1] = (byte) 0xD3;
        Path file = write("damaged.jpg", bad);
        IOException e = assertThrows(IOException.class, () -> ImageFolder.decode(file, false, 1 << 20));
        assertTrue(e.getMessage().startsWith(file + ": corrupt JPEG (the decoder reports: Corrupt JPEG data"), e.getMessage());
    }

    @Test void truncatedJpegInAFolderIsAnUnreadableImageUnlessSkipped() throws IOException {
        byte[] jpg = photoJpeg();
        write("a/ok.jpg", jpg);
        write("b/ok.jpg", jpg);
        Path cut = write("b/cut.jpg", Arrays.copyOf(jpg, jpg.length / 2));
        var e = assertThrows(ImageFolder.UnreadableImageException.class, () -> ImageFolder.of(tmp, 16, 16).load());
        assertEquals(cut, e.file());
        assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("truncated JPEG"), e.getMessage());
        ImageFolder.Images im = ImageFolder.of(tmp, 16, 16).withSkipUnreadable(true).load();
        assertEquals(List.of(cut), im.skipped().stream().map(ImageFolder.Skipped::file).toList());
        assertTrue(im.skipped().getFirst().reason().contains("truncated JPEG"), im.skipped().getFirst().reason());
        assertEquals(2, im.data().size());
    }

    @Test void truncatedBmpAndGifAreErrorsToo() throws IOException {
        for (String format : List.of("bmp", "gif")) {
            byte[] b = FuzzTest.encode(ImageFolderTest.gradient(24, 16, 99), format);
            Path cut = write("cut." + format, Arrays.copyOf(b, b.length / 2));
            IOException e = assertThrows(IOException.class, () -> ImageFolder.decode(cut, false, 1 << 20), format);
            assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
        }
    }

    /** Channel means of HWC RGB pixels. */
    static double[] means(float[] hwc) {
        double[] m = new double[3];
        for (int i = 0; i < hwc.length; i++) m[i % 3] += hwc[i];
        for (int c = 0; c < 3; c++) m[c] /= hwc.length / 3.0;
        return m;
    }

    /**
     * JPEG at quality 95 moves single pixels by up to 0.012 here (measured: the fixture's worst pixel
     * is off by 0.012, its mean absolute error is 0.002), so 0.01 on the channel means and on the
     * mean absolute error leaves margin; the JDK's own conversion is off by 0.06 to 0.19 on the means.
     */
    static final double COLOUR_TOLERANCE = 0.01;

    void assertColoursMatchSource(float[] got, String what) throws IOException {
        float[] want = ImageFolder.decode(write("source.png", FuzzTest.encode(source(), "png")), false, 1 << 20).pixels();
        assertEquals(want.length, got.length);
        double[] mw = means(want), mg = means(got);
        double mae = 0;
        for (int i = 0; i < want.length; i++) mae += Math.abs(want[i] - got[i]);
        mae /= want.length;
        for (int c = 0; c < 3; c++) {
            assertEquals(mw[c], mg[c], COLOUR_TOLERANCE, what + ": channel " + c + " mean " + Arrays.toString(mg) + ", source " + Arrays.toString(mw));
        }
        assertTrue(mae < COLOUR_TOLERANCE, what + ": mean absolute error " + mae);
    }

    @Test void ycckJpegFromImageMagickHasItsSourceColours() throws IOException {
        byte[] fixture;
        try (InputStream in = JpegTest.class.getResourceAsStream("ycck-imagemagick.jpg")) {
            assertNotNull(in, "fixture ycck-imagemagick.jpg missing from the test resources");
            fixture = in.readAllBytes();
        }
        assertEquals(2, fixture[17], "the fixture should be Adobe YCCK (APP14 transform 2)");
        Path file = write("ycck.jpg", fixture);
        assertColoursMatchSource(ImageFolder.decode(file, false, 1 << 20).pixels(), "YCCK");
        // grayscale: the luma of the converted colours
        float[] rgb = ImageFolder.decode(file, false, 1 << 20).pixels(), gray = ImageFolder.decode(file, true, 1 << 20).pixels();
        assertEquals(0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2], gray[0], 1e-6f);
    }

    @Test void adobeCmykJpegHasItsSourceColours() throws IOException {
        // Written by the JDK's JPEG writer from a 4-band raster: plain CMYK (no colour transform),
        // stored inverted as Adobe's tools store it (255 = no ink). ImageMagick reads this file to
        // channel means 0.496, 0.890, 0.508, against the source's 0.498, 0.890, 0.510.
        Path file = write("cmyk.jpg", cmykJpeg(source()));
        assertColoursMatchSource(ImageFolder.decode(file, false, 1 << 20).pixels(), "CMYK");
    }

    /** The naive separation (K = 1 - max(R, G, B), C = (1 - R - K) / (1 - K), ...), inverted, as a quality-95 JPEG. */
    static byte[] cmykJpeg(BufferedImage src) throws IOException {
        int w = src.getWidth(), h = src.getHeight();
        WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = src.getRGB(x, y);
                double[] rgb = {(p >> 16 & 255) / 255.0, (p >> 8 & 255) / 255.0, (p & 255) / 255.0};
                double k = 1 - Math.max(rgb[0], Math.max(rgb[1], rgb[2]));
                for (int c = 0; c < 3; c++) raster.setSample(x, y, c, 255 - (int) Math.round(k >= 1 ? 0 : (1 - rgb[c] - k) / (1 - k) * 255));
                raster.setSample(x, y, 3, 255 - (int) Math.round(k * 255));
            }
        }
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(0.95f);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
            writer.setOutput(out);
            writer.write(null, new IIOImage(raster, null, null), param);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }
}
