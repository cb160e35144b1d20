// Loaded by `./kiln shell` after JShell's default imports: Kiln's user-facing packages.
import dev.kiln.tensor.*;
import dev.kiln.eager.*;
import dev.kiln.nn.*;
import dev.kiln.loss.*;
import dev.kiln.metric.*;
import dev.kiln.optim.*;
import dev.kiln.train.*;
import dev.kiln.data.*;
import java.nio.file.Path;
