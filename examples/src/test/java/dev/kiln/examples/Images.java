package dev.kiln.examples;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks that an example's figure is a real, decodable PNG of at least a given size. */
final class Images {
    private Images() {}

    static BufferedImage assertPng(Path png, int minWidth, int minHeight) throws IOException {
        assertTrue(png.toFile().isFile(), png + " was not written");
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, png + " is not an image ImageIO can decode");
        assertTrue(img.getWidth() >= minWidth && img.getHeight() >= minHeight,
                png + " is " + img.getWidth() + "x" + img.getHeight() + ", expected at least " + minWidth + "x" + minHeight);
        // A blank canvas would pass the size check: a drawn chart has many distinct colours.
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) for (int x = 0; x < img.getWidth(); x += 3) colours.add(img.getRGB(x, y));
        assertTrue(colours.size() >= 4, png + " has only " + colours.size() + " colours: nothing was drawn");
        return img;
    }
}
