package dev.kiln.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where an example writes its plots and CSV files: {@code --out DIR} when given, else
 * {@code kiln-out/<example>} under the working directory.
 */
final class Outputs {
    private Outputs() {}

    /** The output folder named by {@code --out} in {@code args}, else the default one; created. */
    static Path folder(String example, String[] args) {
        Path dir = Path.of("kiln-out", example);
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out")) {
                if (i + 1 == args.length) throw new ExampleMain.CommandLineException("--out needs a folder");
                dir = Path.of(args[i + 1]);
            }
        }
        try {
            return Files.createDirectories(dir.toAbsolutePath().normalize());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the output folder " + dir + " (" + ExampleMain.describe(e) + ")", e);
        }
    }

    /** The integer after {@code flag} in {@code args}, or {@code fallback}. */
    static int intFlag(String[] args, String flag, int fallback) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(flag)) {
                if (i + 1 == args.length) throw new ExampleMain.CommandLineException(flag + " needs a number");
                try {
                    return Integer.parseInt(args[i + 1]);
                } catch (NumberFormatException e) {
                    throw new ExampleMain.CommandLineException(flag + " needs a whole number, got '" + args[i + 1] + "'", e);
                }
            }
        }
        return fallback;
    }

    static boolean hasFlag(String[] args, String flag) {
        for (String a : args) if (a.equals(flag)) return true;
        return false;
    }

    /** The first argument that is neither a flag nor a flag's value, or null. */
    static String positional(String[] args, String... flagsWithValues) {
        outer:
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--")) {
                for (String f : flagsWithValues) if (args[i].equals(f)) { i++; continue outer; }
                continue;
            }
            return args[i];
        }
        return null;
    }
}
