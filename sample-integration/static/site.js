// Every page: the language menu. It switches the page (<html lang>, which
// the widget follows when it mounts), the widget that is already there
// (window.tzChat.setLanguage), and the language of links to other pages.
const select = document.getElementById("site-lang");

function keepLang(lang) {
  for (const a of document.querySelectorAll("a[data-keep-lang]")) {
    const url = new URL(a.href, location.href);
    url.searchParams.set("lang", lang);
    a.href = url.pathname + url.search;
  }
}

if (select) {
  keepLang(select.value);
  select.addEventListener("change", () => {
    const lang = select.value;
    document.documentElement.lang = lang;
    const here = new URL(location.href);
    here.searchParams.set("lang", lang);
    history.replaceState(history.state, "", here.pathname + here.search);
    keepLang(lang);
    if (window.tzChat) window.tzChat.setLanguage(lang);
  });
}
