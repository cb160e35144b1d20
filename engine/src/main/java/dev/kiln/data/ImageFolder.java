package dev.kiln.data;

import dev.kiln.tensor.Shape;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.color.ColorSpace;
import java.awt.color.ICC_ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Loads a folder of images with one sub-folder per class (sorted folder names give the class
 * indices) into a {@link Dataset}: features NHWC [N, height, width, C] (C = 3, or 1 for
 * grayscale), labels [N] class indices.
 *
 * <pre>{@code
 * ImageFolder.Images im = ImageFolder.of(Path.of("car-or-truck/train"), 128, 128).load();
 * Dataset.Split s = im.data().split(0.2, 42);
 * Batches b = Batches.of(s.train(), 16).withAugment(Augment.none().withFlip(true));
 * }</pre>
 *
 * Decoding uses javax.imageio (PNG, JPEG, BMP, GIF; first frame), resizing is bilinear with
 * half-pixel centres (as TensorFlow's and PyTorch's defaults, no antialiasing), values are
 * scaled to [0, 1], then {@code (v - mean[c]) / std[c]} when a normalisation is given. Alpha is
 * ignored. PNG chunk checksums are verified, and a JPEG must run to its end-of-image marker and
 * decode without the decoder reporting damaged data, so a corrupt PNG or a truncated JPEG is an
 * error, never wrong pixels. CMYK and YCCK JPEGs are converted to RGB (see {@code cmykToFloats}).
 *
 * @param mean, std       per-channel normalisation after scaling to [0, 1]; null for none
 * @param skipUnreadable  skip (and list in {@link Images#skipped()}) files that do not decode, instead of failing
 *                        with an {@link UnreadableImageException} naming the first of them
 * @param maxPixels       largest decoded image accepted (width × height), checked from the header before decoding
 */
public record ImageFolder(Path root, int height, int width, boolean grayscale, float[] mean, float[] std, boolean skipUnreadable, long maxPixels) {
    private static final System.Logger LOG = System.getLogger(ImageFolder.class.getName());
    private static final long MAX_FILE_BYTES = 256L << 20;

    public ImageFolder {
        if (height < 1 || width < 1) throw new IllegalArgumentException("image size " + height + "x" + width + " must be positive");
        if ((mean == null) != (std == null)) throw new IllegalArgumentException("give both mean and std, or neither");
        if (mean != null) {
            int c = grayscale ? 1 : 3;
            if (mean.length != c || std.length != c)
                throw new IllegalArgumentException("normalisation needs " + c + " means and stds (one per channel), got " + mean.length + " and " + std.length);
            for (float s : std) if (!(s > 0) || !Float.isFinite(s)) throw new IllegalArgumentException("std " + s + " must be finite and > 0");
            mean = mean.clone();
            std = std.clone();
        }
        if (maxPixels < 1) throw new IllegalArgumentException("maxPixels must be >= 1");
    }

    /** RGB, scaled to [0, 1], failing on an unreadable file, images up to 64 Mpixel. */
    public static ImageFolder of(Path root, int height, int width) {
        return new ImageFolder(root, height, width, false, null, null, false, 1L << 26);
    }

    public ImageFolder withGrayscale(boolean grayscale) { return new ImageFolder(root, height, width, grayscale, null, null, skipUnreadable, maxPixels); }

    public ImageFolder withNormalization(float[] mean, float[] std) { return new ImageFolder(root, height, width, grayscale, mean, std, skipUnreadable, maxPixels); }

    public ImageFolder withSkipUnreadable(boolean skip) { return new ImageFolder(root, height, width, grayscale, mean, std, skip, maxPixels); }

    public ImageFolder withMaxPixels(long maxPixels) { return new ImageFolder(root, height, width, grayscale, mean, std, skipUnreadable, maxPixels); }

    public int channels() { return grayscale ? 1 : 3; }

    /** The loaded images, the class names (index = label) and the files skipped as unreadable. */
    public record Images(Dataset data, List<String> classes, List<Skipped> skipped) {}

    /** An image left out by {@link #withSkipUnreadable}: the file, and why (a message that names it). */
    public record Skipped(Path file, String reason) {}

    /** An image file that does not decode (empty, truncated, corrupt, not an image); the message names it and what is wrong. */
    public static final class UnreadableImageException extends IOException {
        private final transient Path file;

        UnreadableImageException(Path file, IOException cause) {
            super(cause.getMessage(), cause);
            this.file = file;
        }

        public Path file() { return file; }
    }

    public Images load() throws IOException {
        if (!Files.isDirectory(root)) throw new IOException(root + " is not a folder; give the folder that holds one sub-folder per class");
        List<Path> classDirs = new ArrayList<>();
        for (Path p : sortedEntries(root)) if (Files.isDirectory(p)) classDirs.add(p);
        if (classDirs.isEmpty())
            throw new IOException(root + " has no class sub-folders; put each class's images in its own sub-folder (e.g. " + root.resolve("cat") + ")");
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<String> classes = new ArrayList<>();
        for (int k = 0; k < classDirs.size(); k++) {
            Path dir = classDirs.get(k);
            classes.add(dir.getFileName().toString());
            int before = files.size();
            for (Path f : sortedEntries(dir)) if (Files.isRegularFile(f)) { files.add(f); labels.add(k); }
            if (files.size() == before)
                throw new IOException("class folder " + dir + " has no images; add images or remove the folder (its name would be class " + k + ")");
        }
        int per = height * width * channels();
        if ((long) files.size() * per > Integer.MAX_VALUE - 64)
            throw new IOException(files.size() + " images of " + height + "x" + width + "x" + channels() + " do not fit one float array; use fewer or smaller images");
        float[] x = new float[files.size() * per];
        float[] y = new float[files.size()];
        List<Skipped> skipped = new ArrayList<>();
        int[] perClass = new int[classes.size()];
        int n = 0;
        for (int i = 0; i < files.size(); i++) {
            try {
                readInto(files.get(i), x, n * per);
            } catch (IOException e) {
                if (!skipUnreadable) throw new UnreadableImageException(files.get(i), e);
                LOG.log(System.Logger.Level.WARNING, "skipping unreadable image: " + e.getMessage());
                skipped.add(new Skipped(files.get(i), e.getMessage()));
                continue;
            }
            y[n] = labels.get(i);
            perClass[labels.get(i)]++;
            n++;
        }
        for (int k = 0; k < perClass.length; k++) {
            if (perClass[k] == 0) throw new IOException("class folder " + classDirs.get(k) + " has no readable images (" + skipped.size() + " files skipped in all)");
        }
        if (n < files.size()) { x = Arrays.copyOf(x, n * per); y = Arrays.copyOf(y, n); }
        Dataset d = Dataset.wrap(x, Shape.of(n, height, width, channels()), y, Shape.of(n));
        return new Images(d, List.copyOf(classes), List.copyOf(skipped));
    }

    /** Decodes, resizes and scales one image to [height, width, C] (e.g. to predict on it). */
    public float[] read(Path file) throws IOException {
        float[] out = new float[height * width * channels()];
        readInto(file, out, 0);
        return out;
    }

    private void readInto(Path file, float[] out, int offset) throws IOException {
        int c = channels();
        Decoded img = decode(file, grayscale, maxPixels);
        resizeBilinear(img.pixels, img.height, img.width, c, out, offset, height, width);
        if (mean != null) {
            int end = offset + height * width * c;
            for (int i = offset; i < end; i++) { int ch = (i - offset) % c; out[i] = (out[i] - mean[ch]) / std[ch]; }
        }
    }

    record Decoded(float[] pixels, int height, int width) {}

    /** Decodes {@code file} to HWC floats in [0, 1] (C = 1 or 3); every failure is an IOException naming the file. */
    static Decoded decode(Path file, boolean gray, long maxPixels) throws IOException {
        long size = Files.size(file);
        if (size == 0) throw new IOException(file + ": empty file, not an image");
        if (size > MAX_FILE_BYTES) throw new IOException(file + " is " + size + " bytes; images over " + MAX_FILE_BYTES + " bytes are not read");
        byte[] bytes = Files.readAllBytes(file);
        if (Png.isPng(bytes)) Png.verify(file, bytes);
        boolean jpeg = Jpeg.isJpeg(bytes);
        if (jpeg) Jpeg.verifyComplete(file, bytes);
        BufferedImage img;
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) throw new IOException(file + ": not a PNG, JPEG, BMP or GIF image (no decoder recognises its contents)");
            ImageReader reader = readers.next();
            List<IOException> damage = new ArrayList<>();
            // The JPEG decoder reports damaged data (a cut-off file, a bad Huffman code) as a warning and fills the rest with grey.
            if (jpeg) reader.addIIOReadWarningListener((source, warning) -> {
                IOException e = Jpeg.warningAsError(file, warning);
                if (e != null) damage.add(e);
            });
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0), h = reader.getHeight(0);
                if (w < 1 || h < 1 || w * h > maxPixels)
                    throw new IOException(file + ": header says " + w + "x" + h + " pixels, outside 1.." + maxPixels + " pixels (corrupt, or raise maxPixels)");
                img = reader.read(0);
                if (!damage.isEmpty()) throw damage.getFirst();
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(file.toString())) throw e;
            throw new IOException(file + ": unreadable image (" + e.getMessage() + ")", e);
        } catch (RuntimeException e) {
            // Decoders signal corrupt data with assorted unchecked exceptions (array bounds, negative sizes, illegal state).
            throw new IOException(file + ": corrupt image (" + e + ")", e);
        }
        if (img == null) throw new IOException(file + ": the decoder returned no image");
        return new Decoded(toFloats(img, gray), img.getHeight(), img.getWidth());
    }

    /**
     * HWC in [0, 1]. Gray sources are read from the raster, since getRGB would pass them through a
     * gamma conversion; so are CMYK sources without an ICC profile (see {@link #cmykToFloats}).
     * Other colour spaces, CMYK with an embedded profile among them, go through the JDK's colour
     * management (getRGB).
     */
    private static float[] toFloats(BufferedImage img, boolean gray) {
        int w = img.getWidth(), h = img.getHeight(), c = gray ? 1 : 3;
        float[] out = new float[w * h * c];
        var cm = img.getColorModel();
        if (cm.getColorSpace().getType() == ColorSpace.TYPE_CMYK && !(cm.getColorSpace() instanceof ICC_ColorSpace)
                && img.getRaster().getNumBands() == 4) {
            cmykToFloats(img.getRaster(), cm.getComponentSize(0), gray, out);
            return out;
        }
        if (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && cm.getComponentSize(0) <= 16) {
            Raster r = img.getRaster();
            float scale = 1f / ((1 << img.getColorModel().getComponentSize(0)) - 1);
            for (int yy = 0; yy < h; yy++) {
                for (int xx = 0; xx < w; xx++) {
                    float v = r.getSample(xx, yy, 0) * scale;
                    int o = (yy * w + xx) * c;
                    for (int k = 0; k < c; k++) out[o + k] = v;
                }
            }
            return out;
        }
        int[] row = new int[w];
        for (int yy = 0; yy < h; yy++) {
            img.getRGB(0, yy, w, 1, row, 0, w);
            for (int xx = 0; xx < w; xx++) {
                int p = row[xx];
                float rr = ((p >> 16) & 0xFF) / 255f, gg = ((p >> 8) & 0xFF) / 255f, bb = (p & 0xFF) / 255f;
                int o = (yy * w + xx) * c;
                if (gray) out[o] = luma(rr, gg, bb);
                else { out[o] = rr; out[o + 1] = gg; out[o + 2] = bb; }
            }
        }
        return out;
    }

    /** ITU-R BT.601 luma. */
    private static float luma(float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b; }

    /**
     * CMYK (or YCCK, which the decoder turns into CMYK) without an ICC profile, as device values:
     * R = (1 - C)(1 - K), G = (1 - M)(1 - K), B = (1 - Y)(1 - K), taken as sRGB values, as
     * ImageMagick converts them (its sRGB conversion of the test images agrees with this one within
     * 0.002 on the channel means). The JDK's colour model for such images treats these products as
     * linear light and gamma-encodes them, which washes every colour out (a test image's mean went
     * from 0.50 to 0.68). The decoder has already undone Adobe's inverted storage. With an embedded
     * profile the JDK converts through it correctly (checked once against ImageMagick with
     * Ghostscript's SWOP profile: means within 0.002), so that case stays with getRGB.
     */
    private static void cmykToFloats(Raster r, int bits, boolean gray, float[] out) {
        int w = r.getWidth(), h = r.getHeight(), c = gray ? 1 : 3;
        float scale = 1f / ((1 << bits) - 1);
        int[] px = new int[4];
        for (int yy = 0; yy < h; yy++) {
            for (int xx = 0; xx < w; xx++) {
                r.getPixel(xx, yy, px);
                float k = 1 - px[3] * scale;
                float rr = (1 - px[0] * scale) * k, gg = (1 - px[1] * scale) * k, bb = (1 - px[2] * scale) * k;
                int o = (yy * w + xx) * c;
                if (gray) out[o] = luma(rr, gg, bb);
                else { out[o] = rr; out[o + 1] = gg; out[o + 2] = bb; }
            }
        }
    }

    /**
     * Bilinear resize of HWC {@code src} [sh, sw, c] into {@code dst} at {@code offset} as [dh, dw, c],
     * sampling at half-pixel centres: src coordinate = (dst + 0.5) * sh / dh - 0.5, clamped to the edge.
     * Equal sizes copy exactly.
     */
    static void resizeBilinear(float[] src, int sh, int sw, int c, float[] dst, int offset, int dh, int dw) {
        if (sh == dh && sw == dw) { System.arraycopy(src, 0, dst, offset, sh * sw * c); return; }
        double sy = (double) sh / dh, sx = (double) sw / dw;
        for (int y = 0; y < dh; y++) {
            double fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
            int y0 = (int) fy, y1 = Math.min(y0 + 1, sh - 1);
            float wy = (float) (fy - y0);
            for (int x = 0; x < dw; x++) {
                double fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
                int x0 = (int) fx, x1 = Math.min(x0 + 1, sw - 1);
                float wx = (float) (fx - x0);
                int o = offset + (y * dw + x) * c;
                for (int k = 0; k < c; k++) {
                    float a = src[(y0 * sw + x0) * c + k], b = src[(y0 * sw + x1) * c + k];
                    float d = src[(y1 * sw + x0) * c + k], e = src[(y1 * sw + x1) * c + k];
                    float top = a + (b - a) * wx, bottom = d + (e - d) * wx;
                    dst[o + k] = top + (bottom - top) * wy;
                }
            }
        }
    }

    private static List<Path> sortedEntries(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) if (!p.getFileName().toString().startsWith(".")) out.add(p);
        }
        out.sort(null);
        return out;
    }

    @Override public boolean equals(Object o) {
        return o instanceof ImageFolder f && root.equals(f.root) && height == f.height && width == f.width && grayscale == f.grayscale
                && Arrays.equals(mean, f.mean) && Arrays.equals(std, f.std) && skipUnreadable == f.skipUnreadable && maxPixels == f.maxPixels;
    }

    @Override public int hashCode() { return root.hashCode() * 31 + height * 17 + width; }
}
