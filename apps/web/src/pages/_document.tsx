import { Head, Html, Main, NextScript } from "next/document";
import { islandsScriptSrc, themeScript } from "../lib/page-scripts";

export default function Document() {
  const islands = islandsScriptSrc();
  return (
    <Html lang="en">
      <Head>
        <meta
          name="description"
          content="Subnet 102: model and shard sizes, network throughput, active miners, and the ESFT cells, every number traced to how it is computed."
        />
        <link rel="icon" href="/icon.svg" type="image/svg+xml" />
        {/* the theme before first paint, so a dark-mode reader never sees a light flash */}
        <script dangerouslySetInnerHTML={{ __html: themeScript }} />
        {islands ? <script type="module" src={islands} /> : null}
      </Head>
      <body>
        <Main />
        <NextScript />
      </body>
    </Html>
  );
}
