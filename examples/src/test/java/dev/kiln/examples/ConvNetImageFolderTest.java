package dev.kiln.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvNetImageFolderTest {
    @Test
    void convnetTellsHorizontalFromVerticalBarsInTheGeneratedFolder(@TempDir Path out) throws IOException {
        ConvNetImageFolder.Result r = ConvNetImageFolder.run(new ConvNetImageFolder.Options(null, 24, 150, 5, out, false));
        assertEquals(List.of("horizontal", "vertical"), r.classes());
        assertEquals(240, r.trainSize());
        assertTrue(r.valAccuracy() >= 0.9, "validation accuracy " + r.valAccuracy());
        Images.assertPng(r.curves(), 800, 300);
    }

    @Test
    void givenFolderWithThreeClassesTrainsASoftmaxClassifier(@TempDir Path tmp) throws IOException {
        Path folder = tmp.resolve("images");
        ConvNetImageFolder.drawShapes(folder, 10, 16, 5);
        // A third class: copies of the horizontal bars under another name; the pipeline must take any class count.
        Path third = Files.createDirectories(folder.resolve("zzz"));
        try (var files = Files.list(folder.resolve("horizontal"))) {
            for (Path f : files.toList()) Files.copy(f, third.resolve(f.getFileName()));
        }
        ConvNetImageFolder.Result r = ConvNetImageFolder.run(new ConvNetImageFolder.Options(folder, 16, 0, 1, tmp.resolve("out"), false));
        assertEquals(List.of("horizontal", "vertical", "zzz"), r.classes());
        assertEquals(24 + 6, r.trainSize() + r.validationSize());
        assertTrue(r.data().contains(folder.toString()));
        assertTrue(r.valAccuracy() >= 0 && r.valAccuracy() <= 1);
    }
}
