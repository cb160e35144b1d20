package dev.kiln.data;

import dev.kiln.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ImageFolderTest {
    @TempDir Path tmp;

    /** A w x h RGB image with red = 10x, green = 20y, blue = constant b. */
    static BufferedImage gradient(int w, int h, int b) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.setRGB(x, y, (10 * x) << 16 | (20 * y) << 8 | b);
        return img;
    }

    static void save(BufferedImage img, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        String fmt = file.getFileName().toString().replaceAll(".*\\.", "");
        assertTrue(ImageIO.write(img, fmt, file.toFile()), "no writer for " + fmt);
    }

    @Test void classesAreSortedSubFoldersAndPixelsAreScaledNhwc() throws IOException {
        save(gradient(4, 3, 255), tmp.resolve("truck/a.png"));
        save(gradient(4, 3, 0), tmp.resolve("car/b.png"));
        save(gradient(4, 3, 51), tmp.resolve("car/c.bmp"));
        ImageFolder.Images im = ImageFolder.of(tmp, 3, 4).load();
        assertEquals(List.of("car", "truck"), im.classes());
        Dataset d = im.data();
        assertEquals(Shape.of(3, 3, 4, 3), d.featureShape());
        assertArrayEquals(new float[] {0, 0, 1}, d.labels());
        // Example 1 (car/c.bmp), pixel (y=2, x=3): r = 30, g = 40, b = 51.
        assertEquals(30 / 255f, d.feature(1, (2 * 4 + 3) * 3), 1e-6f);
        assertEquals(40 / 255f, d.feature(1, (2 * 4 + 3) * 3 + 1), 1e-6f);
        assertEquals(0.2f, d.feature(1, (2 * 4 + 3) * 3 + 2), 1e-6f);
        assertEquals(1f, d.feature(2, 2));
    }

    @Test void bilinearResizeWithHalfPixelCentres() throws IOException {
        // 2x1 image [0, 255] (red channel) to width 4: samples at x = -0.25, 0.25, 0.75, 1.25 -> clamp -> 0, .25, .75, 1.
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0);
        img.setRGB(1, 0, 255 << 16);
        save(img, tmp.resolve("a/x.png"));
        Dataset d = ImageFolder.of(tmp, 1, 4).load().data();
        float[] red = new float[4];
        for (int x = 0; x < 4; x++) red[x] = d.feature(0, x * 3);
        assertArrayEquals(new float[] {0, 0.25f, 0.75f, 1f}, red, 1e-6f);
        // Downscaling a 4x4 gradient to 2x2 averages pixel pairs: x = 0.5 and 2.5 -> red 5 and 25.
        save(gradient(4, 4, 0), tmp.resolve("b/g.png"));
        Dataset e = ImageFolder.of(tmp.resolve("b").getParent(), 2, 2).withSkipUnreadable(false).load().data();
        assertEquals(5 / 255f, e.feature(1, 0), 1e-6f);
        assertEquals(25 / 255f, e.feature(1, 3), 1e-6f);
    }

    @Test void grayscaleAndNormalisation() throws IOException {
        BufferedImage g = new BufferedImage(2, 2, BufferedImage.TYPE_BYTE_GRAY);
        g.getRaster().setSample(0, 0, 0, 128);
        save(g, tmp.resolve("k/g.png"));
        save(gradient(2, 2, 255), tmp.resolve("k/rgb.png"));
        Dataset d = ImageFolder.of(tmp, 2, 2).withGrayscale(true).load().data();
        assertEquals(Shape.of(2, 2, 2, 1), d.featureShape());
        assertEquals(128 / 255f, d.feature(0, 0), 1e-6f);          // raw gray sample, no gamma shift
        assertEquals(0.114f, d.feature(1, 0), 1e-6f);             // pure blue pixel -> BT.601 luma
        Dataset n = ImageFolder.of(tmp, 2, 2).withGrayscale(true).withNormalization(new float[] {0.5f}, new float[] {0.25f}).load().data();
        assertEquals((128 / 255f - 0.5f) / 0.25f, n.feature(0, 0), 1e-5f);
    }

    @Test void unreadableImageNamesThePathOrIsSkipped() throws IOException {
        save(gradient(3, 3, 0), tmp.resolve("a/ok.png"));
        save(gradient(3, 3, 0), tmp.resolve("b/ok.png"));
        Path bad = tmp.resolve("b/broken.jpg");
        Files.writeString(bad, "this is not a picture");
        var e = assertThrows(IOException.class, () -> ImageFolder.of(tmp, 3, 3).load());
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
        ImageFolder.Images im = ImageFolder.of(tmp, 3, 3).withSkipUnreadable(true).load();
        assertEquals(2, im.data().size());
        assertEquals(List.of(bad), im.skipped().stream().map(ImageFolder.Skipped::file).toList());
        assertTrue(im.skipped().getFirst().reason().contains(bad.toString()), im.skipped().getFirst().reason());
    }

    @Test void emptyFoldersAreClearErrors() throws IOException {
        var none = assertThrows(IOException.class, () -> ImageFolder.of(tmp, 3, 3).load());
        assertTrue(none.getMessage().contains("no class sub-folders"), none.getMessage());
        save(gradient(3, 3, 0), tmp.resolve("a/ok.png"));
        Files.createDirectories(tmp.resolve("b"));
        var empty = assertThrows(IOException.class, () -> ImageFolder.of(tmp, 3, 3).load());
        assertTrue(empty.getMessage().contains(tmp.resolve("b").toString()) && empty.getMessage().contains("no images"), empty.getMessage());
    }

    @Test void validationSplitIsSeededAndAugmentedBatchesFlip() throws IOException {
        for (int i = 0; i < 10; i++) save(gradient(4, 2, 10 * i), tmp.resolve((i % 2 == 0 ? "even" : "odd") + "/" + i + ".png"));
        Dataset d = ImageFolder.of(tmp, 2, 4).load().data();
        Dataset.Split a = d.split(0.3, 1), b = d.split(0.3, 1);
        assertEquals(3, a.validation().size());
        assertArrayEquals(a.validation().features(), b.validation().features());
        // With flip only, every augmented example is the original or its mirror: red channel 0,10,20,30 or 30,20,10,0 per row.
        int flipped = 0;
        try (Loader l = Batches.of(d, 5).withAugment(Augment.none().withFlip(true)).withSeed(4).open()) {
            for (int e = 0; e < 4; e++) {
                for (Batch batch : l.epoch(e)) {
                    for (int i = 0; i < batch.size(); i++) {
                        float first = batch.features()[i * 24];
                        assertTrue(first == 0f || first == 30 / 255f, "red at x=0 is " + first);
                        if (first != 0f) { flipped++; assertEquals(0f, batch.features()[i * 24 + 9]); }
                    }
                }
            }
        }
        assertTrue(flipped > 8 && flipped < 32, "flipped " + flipped + " of 40");
    }
}
