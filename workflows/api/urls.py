"""``/api/v1/`` routes of the workflows: corrections, admissions' outcomes and cohorts'
reviews, academic-year registration, status changes, identity changes, and the work list
(mounted before records')."""

from __future__ import annotations

from django.urls import URLPattern
from django.urls import path

from workflows.api import admissions
from workflows.api import corrections as api
from workflows.api import graduation
from workflows.api import identity_changes
from workflows.api import proofs
from workflows.api import revocations
from workflows.api import status_changes
from workflows.api import tasks
from workflows.api import years

app_name = "workflows_api"
urlpatterns: list[URLPattern] = [
    path("corrections/", api.CorrectionListCreate.as_view(), name="correction-list"),
    path("corrections/<id:pk>/", api.CorrectionDetail.as_view(), name="correction-detail"),
    path(
        "corrections/<id:pk>/withdraw/",
        api.CorrectionWithdraw.as_view(),
        name="correction-withdraw",
    ),
    path(
        "corrections/<id:pk>/resubmit/",
        api.CorrectionResubmit.as_view(),
        name="correction-resubmit",
    ),
    path(
        "corrections/<id:pk>/evidence/",
        api.CorrectionEvidenceUpload.as_view(),
        name="correction-evidence",
    ),
    path("admissions/outcomes/", admissions.AdmissionOutcomes.as_view(), name="admission-outcomes"),
    path("admission-reviews/", admissions.ReviewList.as_view(), name="admission-review-list"),
    path(
        "admission-cancellations/<id:pk>/",
        admissions.CancellationDetail.as_view(),
        name="admission-cancellation-detail",
    ),
    path(
        "admission-cancellations/<id:pk>/delivery/",
        admissions.CancellationDelivery.as_view(),
        name="admission-cancellation-delivery",
    ),
    path(
        "admission-cancellations/<id:pk>/appeal/",
        admissions.CancellationAppeal.as_view(),
        name="admission-cancellation-appeal",
    ),
    path(
        "admission-reviews/<id:pk>/register/",
        admissions.ReviewRegister.as_view(),
        name="admission-review-register",
    ),
    path("graduations/", graduation.CohortList.as_view(), name="graduation-list"),
    path("graduations/<id:pk>/", graduation.CohortDetail.as_view(), name="graduation-detail"),
    path(
        "graduations/<id:pk>/prepare/",
        graduation.CohortPrepare.as_view(),
        name="graduation-prepare",
    ),
    path(
        "graduations/<id:pk>/graduates/",
        graduation.CohortGraduates.as_view(),
        name="graduation-graduates",
    ),
    path(
        "graduations/<id:pk>/register/",
        graduation.CohortRegister.as_view(),
        name="graduation-register",
    ),
    path(
        "graduations/<id:pk>/rechecks/",
        graduation.CohortRecheck.as_view(),
        name="graduation-recheck",
    ),
    path("revocations/", revocations.RevocationListCreate.as_view(), name="revocation-list"),
    path("revocations/<id:pk>/", revocations.RevocationDetail.as_view(), name="revocation-detail"),
    path(
        "revocations/<id:pk>/delivery/",
        revocations.RevocationDelivery.as_view(),
        name="revocation-delivery",
    ),
    path(
        "revocations/<id:pk>/appeal/",
        revocations.RevocationAppeal.as_view(),
        name="revocation-appeal",
    ),
    path("year-registrations/", years.RoundList.as_view(), name="year-registration-list"),
    path(
        "year-registrations/<id:pk>/",
        years.RoundDetail.as_view(),
        name="year-registration-detail",
    ),
    path(
        "year-registrations/<id:pk>/register/",
        years.RoundRegister.as_view(),
        name="year-registration-register",
    ),
    path(
        "year-registrations/<id:pk>/outcomes/",
        years.RoundOutcomes.as_view(),
        name="year-registration-outcomes",
    ),
    path(
        "year-registrations/<id:pk>/students/",
        years.RoundStudents.as_view(),
        name="year-registration-students",
    ),
    path(
        "status-changes/",
        status_changes.StatusChangeListCreate.as_view(),
        name="status-change-list",
    ),
    path(
        "status-changes/types/",
        status_changes.StatusChangeTypes.as_view(),
        name="status-change-types",
    ),
    path(
        "status-changes/<id:pk>/",
        status_changes.StatusChangeDetail.as_view(),
        name="status-change-detail",
    ),
    path(
        "status-changes/<id:pk>/withdraw/",
        status_changes.StatusChangeWithdraw.as_view(),
        name="status-change-withdraw",
    ),
    path(
        "status-changes/<id:pk>/resubmit/",
        status_changes.StatusChangeResubmit.as_view(),
        name="status-change-resubmit",
    ),
    path("certificate-proofs/", proofs.ProofListCreate.as_view(), name="certificate-proof-list"),
    path(
        "certificate-proofs/<id:pk>/",
        proofs.ProofDetail.as_view(),
        name="certificate-proof-detail",
    ),
    path(
        "certificate-proofs/<id:pk>/withdraw/",
        proofs.ProofWithdraw.as_view(),
        name="certificate-proof-withdraw",
    ),
    path(
        "certificate-proofs/<id:pk>/resubmit/",
        proofs.ProofResubmit.as_view(),
        name="certificate-proof-resubmit",
    ),
    path(
        "certificate-proofs/<id:pk>/evidence/",
        proofs.ProofEvidenceUpload.as_view(),
        name="certificate-proof-evidence",
    ),
    path(
        "status-changes/<id:pk>/delivery/",
        status_changes.StatusChangeDelivery.as_view(),
        name="status-change-delivery",
    ),
    path(
        "status-changes/<id:pk>/appeal/",
        status_changes.StatusChangeAppeal.as_view(),
        name="status-change-appeal",
    ),
    path(
        "identity-changes/",
        identity_changes.IdentityChangeListCreate.as_view(),
        name="identity-change-list",
    ),
    path(
        "identity-changes/fields/",
        identity_changes.IdentityChangeFields.as_view(),
        name="identity-change-fields",
    ),
    path(
        "identity-changes/<id:pk>/",
        identity_changes.IdentityChangeDetail.as_view(),
        name="identity-change-detail",
    ),
    path(
        "identity-changes/<id:pk>/withdraw/",
        identity_changes.IdentityChangeWithdraw.as_view(),
        name="identity-change-withdraw",
    ),
    path(
        "identity-changes/<id:pk>/resubmit/",
        identity_changes.IdentityChangeResubmit.as_view(),
        name="identity-change-resubmit",
    ),
    path(
        "identity-changes/<id:pk>/evidence/",
        identity_changes.IdentityChangeEvidenceUpload.as_view(),
        name="identity-change-evidence",
    ),
    path("tasks/", tasks.TaskList.as_view(), name="task-list"),
    path("tasks/counts/", tasks.TaskCounts.as_view(), name="task-counts"),
    path("tasks/decide/", tasks.TaskBulkDecide.as_view(), name="task-bulk-decide"),
    path("tasks/<id:pk>/decide/", tasks.TaskDecide.as_view(), name="task-decide"),
]
