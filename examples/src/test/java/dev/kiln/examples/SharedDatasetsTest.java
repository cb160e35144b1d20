package dev.kiln.examples;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SharedDatasetsTest {
    @AfterEach
    void clearOverride() { System.clearProperty(SharedDatasets.ENV); }

    @Test
    void findsTheCourseCsvsWalkingUpFromTheWorkingDirectory() throws IOException {
        Path f = SharedDatasets.csv("breast_cancer");
        assertTrue(Files.isReadable(f));
        assertEquals("breast_cancer.csv", f.getFileName().toString());
        assertTrue(Files.readString(f).startsWith("mean_radius,"), "the course's breast_cancer.csv");
    }

    @Test
    void overrideNamesTheFolderAndABadOneSaysHowToFixIt(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("wine.csv"), "a,b\n1,2\n");
        System.setProperty(SharedDatasets.ENV, tmp.toString());
        assertEquals(tmp.resolve("wine.csv"), SharedDatasets.csv("wine"));
        IOException missing = assertThrows(IOException.class, () -> SharedDatasets.csv("auto_mpg"));
        assertTrue(missing.getMessage().contains("auto_mpg.csv is missing"), missing.getMessage());
        System.setProperty(SharedDatasets.ENV, tmp.resolve("nowhere").toString());
        IOException bad = assertThrows(IOException.class, SharedDatasets::dir);
        assertTrue(bad.getMessage().contains("KILN_DATASETS") && bad.getMessage().contains("not a folder"), bad.getMessage());
    }
}
