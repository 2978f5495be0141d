// Lint: typescript-eslint's recommended rules with type information, plus Pulumi's rules that
// catch an Output interpolated into a plain template string (it renders as a warning text, not
// the value).
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
    { ignores: ["build/**", "node_modules/**", "examples/**/node_modules/**", "bench/results/**"] },
    ...tseslint.configs.recommended,
    {
        files: ["**/*.ts"],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
            // Dynamic providers and test harnesses load modules at run time on purpose.
            "@typescript-eslint/no-require-imports": "off",
        },
    },
    {
        // Tests read loosely-typed JSON and mock inputs.
        files: ["test/**/*.ts", "bench/**/*.ts"],
        rules: { "@typescript-eslint/no-explicit-any": "off", "@typescript-eslint/no-non-null-assertion": "off" },
    },
);
