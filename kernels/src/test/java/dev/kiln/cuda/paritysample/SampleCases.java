package dev.kiln.cuda.paritysample;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Not a test of Kiln: three cases (pass, fail, skip) that ParitySuiteTest runs through ParitySuite's launcher. Its name
 * matches none of Surefire's test patterns, and ParitySuite's own run excludes this package, so it runs nowhere else.
 */
public class SampleCases {
    @Test void passes() { assertEquals(4, 2 + 2); }

    @Test void fails() { assertEquals(5, 2 + 2, "two and two"); }

    @Test void skips() { assumeTrue(false, "no device in this sample"); }
}
