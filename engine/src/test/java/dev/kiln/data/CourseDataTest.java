package dev.kiln.data;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CourseDataTest {
    @AfterEach
    void clearOverride() { System.clearProperty(CourseData.ENV); }

    @Test
    void everyCourseTableShipsInsideKilnNotBesideTheRepository() throws IOException {
        for (String name : CourseData.NAMES) {
            Path f = CourseData.csv(name);
            assertTrue(Files.isReadable(f), f.toString());
            assertEquals(name + ".csv", f.getFileName().toString());
            // Kiln's own copy: under the engine's classes, never a shared/ folder outside the clone.
            assertTrue(f.toString().contains("dev/kiln/data/course"), f.toString());
        }
        assertTrue(Files.readString(CourseData.csv("breast_cancer")).startsWith("mean_radius,"), "the course's breast_cancer.csv");
        assertEquals(443, Files.readAllLines(CourseData.csv("diabetes.csv")).size(), "442 rows and a header");
    }

    @Test
    void anUnknownTableNamesTheOnesThatShip() {
        IOException e = assertThrows(IOException.class, () -> CourseData.csv("iris"));
        assertTrue(e.getMessage().contains("'iris'") && e.getMessage().contains("auto_mpg"), e.getMessage());
    }

    @Test
    void overrideNamesTheFolderAndABadOneSaysHowToFixIt(@TempDir Path tmp) throws IOException {
        Files.writeString(tmp.resolve("wine.csv"), "a,b\n1,2\n");
        System.setProperty(CourseData.ENV, tmp.toString());
        assertEquals(tmp.resolve("wine.csv"), CourseData.csv("wine"));
        IOException missing = assertThrows(IOException.class, () -> CourseData.csv("auto_mpg"));
        assertTrue(missing.getMessage().contains("auto_mpg.csv is missing"), missing.getMessage());
        System.setProperty(CourseData.ENV, tmp.resolve("nowhere").toString());
        IOException bad = assertThrows(IOException.class, () -> CourseData.csv("wine"));
        assertTrue(bad.getMessage().contains("KILN_DATASETS") && bad.getMessage().contains("not a folder"), bad.getMessage());
    }
}
