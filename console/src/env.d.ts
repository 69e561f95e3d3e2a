/** esbuild bundles the imported style sheet into the build's one CSS file. */
declare module '*.css';
