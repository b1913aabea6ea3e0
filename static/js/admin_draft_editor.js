/* Draft editor in the admin: each step shows only the settings of its type.
 *
 * Without JavaScript every type's settings are shown, each under its own heading, and
 * only the chosen type's are saved. Rows added with "Add another step" are handled too.
 */
(function () {
  "use strict";

  function typeOf(row) {
    var select = row.querySelector('select[name$="-type"]');
    return select ? select.value : "";
  }

  function showSettings(row) {
    var type = typeOf(row);
    row.querySelectorAll("fieldset.step-settings").forEach(function (fieldset) {
      fieldset.hidden = !fieldset.classList.contains("step-settings-" + type);
    });
  }

  function rowOf(element) {
    return element.closest(".inline-related");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".inline-related").forEach(function (row) {
      if (row.querySelector("fieldset.step-settings")) {
        showSettings(row);
      }
    });
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches('select[name$="-type"]')) {
      var row = rowOf(event.target);
      if (row) {
        showSettings(row);
      }
    }
  });

  document.addEventListener("formset:added", function (event) {
    var row = event.target;
    if (row && row.querySelector && row.querySelector("fieldset.step-settings")) {
      showSettings(row);
    }
  });
})();
