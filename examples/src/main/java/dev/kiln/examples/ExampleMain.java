package dev.kiln.examples;

import dev.kiln.train.Dashboard;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How every example's {@code main} runs, so each fails like a program, not like a stack trace.
 * The command line is checked against the example's usage line first. A mistake in what the user
 * gave (the command line, a folder, an image, a CSV, {@code KILN_DATASETS}) prints one line on
 * stderr, {@code kiln run <name>: <what is wrong>}, and exits with {@value #BAD_COMMAND_LINE} for
 * the command line, {@value #BAD_INPUT} for the rest. Any other exception is a bug in Kiln: a line
 * saying so, its stack trace, and exit status {@value #BUG}.
 *
 * <pre>{@code
 * public static void main(String[] args) {
 *     ExampleMain.run("linear", "[--epochs N] [--out DIR]", args, a -> train(Outputs.intFlag(a, "--epochs", 40)));
 * }
 * }</pre>
 */
final class ExampleMain {
    static final int BAD_INPUT = 1, BAD_COMMAND_LINE = 2, BUG = 70;

    /** What the example does with its (checked) arguments. */
    interface Body { void run(String[] args) throws Exception; }

    /** A mistake in the command line: the message is followed by the example's usage. */
    static final class CommandLineException extends IllegalArgumentException {
        CommandLineException(String message) { super(message); }

        CommandLineException(String message, Throwable cause) { super(message, cause); }
    }

    private ExampleMain() {}

    /** Runs {@code body} and exits with a non-zero status when it fails; returns normally on success. */
    static void run(String name, String usage, String[] args, Body body) {
        int status = status(name, usage, args, System.err, body);
        if (status != 0) System.exit(status);
    }

    /** Runs {@code body}, reporting a failure on {@code err}; the exit status (0 on success). */
    static int status(String name, String usage, String[] args, PrintStream err, Body body) {
        String prefix = "kiln run " + name + ": ";
        try {
            boolean dashboard = List.of(args).contains("--dashboard");
            if (dashboard) args = dashboard(name, args);
            checkArguments(usage, args);
            body.run(args);
            if (dashboard && Dashboard.shared().serving()) {
                System.out.println(prefix + "done; the training page stays at " + Dashboard.shared().uri() + " until you press Ctrl-C");
            }
            return 0;
        } catch (CommandLineException e) {
            // a message with more lines (how to get a missing file) keeps them after its first
            String message = e.getMessage(), first = message.lines().findFirst().orElse(""), more = message.substring(first.length());
            err.println(prefix + first + " (usage: kiln run " + name + " " + usage + ")" + more);
            return BAD_COMMAND_LINE;
        } catch (IOException | UncheckedIOException | IllegalArgumentException e) {
            err.println(prefix + describe(e));
            return BAD_INPUT;
        } catch (Exception e) {
            err.println(prefix + "internal error, a bug in Kiln (please report it with this trace): " + e);
            e.printStackTrace(err);
            return BUG;
        }
    }

    /**
     * {@code --dashboard}, which every example takes: every {@code fit} reports to a live page on localhost
     * ({@link Dashboard#shared}), whose report goes beside the example's plots; the arguments without it.
     */
    private static String[] dashboard(String name, String[] args) {
        String[] rest = List.of(args).stream().filter(a -> !a.equals("--dashboard")).toArray(String[]::new);
        System.setProperty(Dashboard.REPORT_PROPERTY, Outputs.folder(name, rest).resolve("dashboard.html").toString());
        if (System.getProperty(Dashboard.PROPERTY) == null) System.setProperty(Dashboard.PROPERTY, "0");
        return rest;
    }

    /** What went wrong with the user's input, in words; the JDK's file-system exceptions carry only the path as their message. */
    static String describe(Throwable e) {
        if (e instanceof UncheckedIOException u && u.getCause() != null && (u.getMessage() == null || u.getMessage().equals(u.getCause().toString())))
            return describe(u.getCause());
        if (e instanceof NoSuchFileException f) return f.getFile() + ": no such file or folder";
        if (e instanceof AccessDeniedException f) return f.getFile() + ": permission denied";
        if (e instanceof NotDirectoryException f) return f.getFile() + ": not a folder";
        if (e instanceof FileAlreadyExistsException f) return f.getFile() + ": already exists (as a file where a folder is needed?)";
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getFile() + ": " + f.getReason();
        if (e.getMessage() == null || e.getMessage().isBlank()) return e.getClass().getSimpleName() + (e.getCause() != null ? " (" + describe(e.getCause()) + ")" : "");
        return e.getMessage();
    }

    // One usage element: a flag with or without a value ("[--size PIXELS]", "--weights FILE", "[--skip-unreadable]"), or a positional ("[FOLDER]").
    private static final Pattern ELEMENT = Pattern.compile("(\\[)?(--[a-z0-9-]+)(?: ([A-Z][A-Z_]*))?\\]?|(\\[)?([A-Z][A-Z_]*)\\]?");

    /** Rejects an option the usage line does not name, an option without its value, and missing or extra positionals. */
    static void checkArguments(String usage, String[] args) {
        List<String> withValue = new ArrayList<>(), switches = new ArrayList<>(), positionals = new ArrayList<>();
        int required = 0;
        Matcher m = ELEMENT.matcher(usage);
        while (m.find()) {
            if (m.group(2) != null) (m.group(3) != null ? withValue : switches).add(m.group(2));
            else {
                positionals.add(m.group(5));
                if (m.group(4) == null) required++;
            }
        }
        int given = 0;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (withValue.contains(a)) {
                if (i + 1 == args.length || args[i + 1].startsWith("--")) throw new CommandLineException(a + " needs a value");
                i++;
            } else if (a.startsWith("--")) {
                if (!switches.contains(a)) throw new CommandLineException("unknown option " + a);
            } else if (given == positionals.size()) {
                throw new CommandLineException("unexpected argument '" + a + "'");
            } else {
                given++;
            }
        }
        if (given < required) throw new CommandLineException("missing " + positionals.get(given));
    }
}
